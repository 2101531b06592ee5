using MlxManager.Core.Profiles;

namespace MlxManager.Core.Tests.Profiles;

public class ProfileRulesTests
{
    private static readonly Profile[] Existing =
    [
        new() { Id = 1, Name = "Qwen3 4B", Port = 8080 },
        new() { Id = 2, Name = "Gemma", Port = 8081, GatewayNames = "gemma-small, vision" },
    ];

    [Fact]
    public void CheckUniqueness_WhenNameIsTakenIgnoringCase_ReportsTheName()
    {
        var result = ProfileRules.CheckUniqueness(new Profile { Name = " qwen3 4b ", Port = 9000 }, Existing);

        result.ErrorsFor(ProfileField.Name).ShouldBe(["Another profile is already called \"Qwen3 4B\"."]);
        result.ErrorsFor(ProfileField.Port).ShouldBeEmpty();
    }

    [Fact]
    public void CheckUniqueness_WhenPortIsTaken_NamesTheProfileUsingIt()
    {
        var result = ProfileRules.CheckUniqueness(new Profile { Name = "New", Port = 8081 }, Existing);

        result.ErrorsFor(ProfileField.Port).ShouldBe(["Port 8081 is already used by the profile \"Gemma\"."]);
    }

    [Fact]
    public void CheckUniqueness_IgnoresTheProfileBeingEdited()
    {
        ProfileRules.CheckUniqueness(new Profile { Id = 2, Name = "Gemma", Port = 8081 }, Existing).IsValid.ShouldBeTrue();
    }

    [Fact]
    public void CheckUniqueness_WhenAGatewayNameIsAnotherProfilesNameOrGatewayName_SaysWhose()
    {
        var result = ProfileRules.CheckUniqueness(new Profile { Name = "New", Port = 9000, GatewayNames = "QWEN3 4B, Vision, mine" }, Existing);

        result.ErrorsFor(ProfileField.GatewayNames).ShouldBe(
        [
            "\"QWEN3 4B\" is the name of another profile; the gateway would not know which one is meant.",
            "The profile \"Gemma\" already has the gateway name \"Vision\".",
        ]);
    }

    [Fact]
    public void CheckUniqueness_WhenTheNameIsAnotherProfilesGatewayName_ReportsIt()
    {
        var result = ProfileRules.CheckUniqueness(new Profile { Name = "gemma-small", Port = 9000 }, Existing);

        result.ErrorsFor(ProfileField.Name).ShouldBe(["\"gemma-small\" is a gateway name of the profile \"Gemma\"; choose another name."]);
    }

    [Fact]
    public void SuggestPort_ReturnsTheFirstPortNoProfileUsesAndThatIsFree()
    {
        ProfileRules.SuggestPort([8080, 8081, 8083]).ShouldBe(8082);
        ProfileRules.SuggestPort([8080, 8081], isFree: p => p != 8082).ShouldBe(8083);
        ProfileRules.SuggestPort([65535], start: 65535).ShouldBeNull();
    }

    [Fact]
    public void SuggestCopyName_CountsUpUntilTheNameIsFree()
    {
        ProfileRules.SuggestCopyName("Gemma", ["Gemma"]).ShouldBe("Gemma (copy)");
        ProfileRules.SuggestCopyName("Gemma", ["Gemma", "gemma (copy)", "Gemma (copy 2)"]).ShouldBe("Gemma (copy 3)");
    }

    [Fact]
    public void Duplicate_CopiesEveryServingFieldButNotTheIdentity()
    {
        var original = Engines.ProfileSamples.Full("mlx-openai-server");
        original.Id = 7;
        var now = new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

        var copy = original.Duplicate("Copy", 9001, now);

        copy.Id.ShouldBe(0);
        copy.Name.ShouldBe("Copy");
        copy.Port.ShouldBe(9001);
        copy.CreatedAt.ShouldBe(now);
        foreach (var property in typeof(Profile).GetProperties()
                     .Where(p => p.Name is not (nameof(Profile.Id) or nameof(Profile.Name) or nameof(Profile.Port) or nameof(Profile.CreatedAt) or nameof(Profile.UpdatedAt))))
        {
            property.GetValue(copy).ShouldBe(property.GetValue(original), property.Name);
        }
    }
}
