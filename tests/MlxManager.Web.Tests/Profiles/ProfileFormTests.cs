using System.Net;
using System.Text.RegularExpressions;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Infrastructure;
using MlxManager.Web.Tests.Servers.Infrastructure;

namespace MlxManager.Web.Tests.Profiles;

/// <summary>/profiles/new and /profiles/{id}/edit: prefill, validation re-render with reasons, live review, save.</summary>
public sealed partial class ProfileFormTests(ProfilesApp app) : IClassFixture<ProfilesApp>
{
    private static readonly string Qwen = FixtureCatalog.QwenThinking.RepoId;

    [Fact]
    public async Task New_WithAVisionModel_SuggestsTheVisionEngine_AndNamesTheProfileAfterTheModel()
    {
        using var client = await app.SignedInAsync();

        var html = await client.GetHtmlAsync("/profiles/new?model=" + Uri.EscapeDataString(FixtureCatalog.GemmaVision.RepoId));

        SelectedOption(html, "Input_Engine").ShouldBe("mlx_vlm.server");
        SelectedOption(html, "Input_ModelRef").ShouldBe(FixtureCatalog.GemmaVision.RepoId);
        InputValue(html, "Input_Name").ShouldBe("gemma-3-4b-it-4bit");
        InputValue(html, "Input_MaxTokens").ShouldBe("4096");
        InputValue(html, "Input_Host").ShouldBe("127.0.0.1");
        html.ShouldContain("Takes images.");
        html.ShouldContain("--max-kv-size", Case.Sensitive, "the form explains how the engine takes the context length");
    }

    [Fact]
    public async Task New_WithAThinkingModel_StartsWithGenerousMaxTokens_AndShowsTheCommand()
    {
        using var client = await app.SignedInAsync();

        var html = WebUtility.HtmlDecode(await client.GetHtmlAsync("/profiles/new?model=" + Uri.EscapeDataString(Qwen)));

        SelectedOption(html, "Input_Engine").ShouldBe("mlx_lm.server");
        InputValue(html, "Input_MaxTokens").ShouldBe("16384");
        html.ShouldContain($"mlx_lm.server --model {Qwen} --host 127.0.0.1 --port ");
        html.ShouldContain("--max-tokens 16384");
        html.ShouldContain($"HF_HUB_CACHE={EngineWorld.Instance.HubCache}");
        html.ShouldContain("Memory at 40,960 tokens:");
        html.ShouldNotContain("Give the profile a name", Case.Sensitive, "a fresh form does not scold");
    }

    [Fact]
    public async Task Save_ValidProfile_RedirectsToTheListWhichShowsItWithBadges()
    {
        using var client = await app.SignedInAsync();

        var response = await client.PostFormAsync("/profiles/new", Fields("Saved one", Qwen, SeedProfiles.FreePort()));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
        response.Headers.Location!.OriginalString.ShouldBe("/profiles");
        var list = WebUtility.HtmlDecode(await client.GetHtmlAsync("/profiles"));
        list.ShouldContain("Created the profile \"Saved one\".");
        list.ShouldContain("4-bit g64");
        var saved = (await SeedProfiles.FindAsync(app, "Saved one")).ShouldNotBeNull();
        saved.Thinking.ShouldBe(MlxManager.Core.Profiles.ThinkingMode.Off);
        saved.TopK.ShouldBe(20);
        saved.Temperature.ShouldBe(0.6);
        saved.SystemPrompt.ShouldBe("Be brief.");
        saved.EnvironmentVariables.ShouldBe("EMULATOR_TOKEN_RATE=400");
        saved.StartOnDemand.ShouldBeTrue("on unless switched off");
        saved.MaxConcurrentRequests.ShouldBe(8);
    }

    [Fact]
    public async Task Save_GatewayFields_AreStored()
    {
        using var client = await app.SignedInAsync();
        var fields = Fields("Gateway one", Qwen, SeedProfiles.FreePort());
        fields["Input.GatewayNames"] = "gw-one, gw-uno";
        fields["Input.DefaultForModel"] = "true";
        fields["Input.StartOnDemand"] = "false";
        fields["Input.UnloadAfterIdleMinutes"] = "0";
        fields["Input.KeepLoaded"] = "true";
        fields["Input.MaxConcurrentRequests"] = "2";
        fields["Input.LoadTimeoutSeconds"] = "1800";

        var response = await client.PostFormAsync("/profiles/new", fields);

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
        var saved = (await SeedProfiles.FindAsync(app, "Gateway one")).ShouldNotBeNull();
        (saved.GatewayNames, saved.DefaultForModel, saved.StartOnDemand, saved.UnloadAfterIdleMinutes, saved.KeepLoaded, saved.MaxConcurrentRequests)
            .ShouldBe(("gw-one, gw-uno", true, false, (int?)0, true, 2));
        saved.LoadTimeoutSeconds.ShouldBe(1800);
    }

    public static TheoryData<string, Action<Dictionary<string, string>>, string, string> BadInputs => new()
    {
        { "duplicate name", f => f["Input.Name"] = "Existing", "notes-Name", "Another profile is already called \"Existing\"." },
        { "duplicate port", f => f["Input.Port"] = ExistingPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "notes-Port", $"Port {ExistingPort} is already used by the profile \"Existing\"." },
        { "gateway name of another profile", f => f["Input.GatewayNames"] = "existing", "notes-GatewayNames", "\"existing\" is the name of another profile" },
        { "load timeout of zero", f => f["Input.LoadTimeoutSeconds"] = "0", "notes-LoadTimeoutSeconds", "Load timeout is a number of seconds from 1 to 86400" },
        { "port out of range", f => f["Input.Port"] = "70000", "notes-Port", "Port 70000 is out of range: use 1–65535 (e.g. 8080)." },
        { "missing model", f => f["Input.ModelRef"] = "", "notes-ModelRef", "Choose a model: a downloaded one, or a folder that holds one." },
        { "model not downloaded", f => f["Input.ModelRef"] = "mlx-community/Nope-4bit", "notes-ModelRef", "mlx-community/Nope-4bit is not downloaded" },
        { "missing folder", f => { f["Input.ModelRef"] = "__folder__"; f["Input.ModelFolder"] = "/no/such/model"; }, "notes-ModelRef", "The folder /no/such/model does not exist." },
        { "context beyond the window", f => f["Input.ContextLength"] = "50000", "notes-ContextLength", "A context of 50,000 tokens is beyond the model's window of 40,960 tokens." },
        { "parser the engine lacks", f => f["Input.ToolCallParser"] = "qwen3", "notes-ToolCallParser", "mlx_lm.server has no tool-call parser option" },
        { "extra argument bypassing a field", f => f["Input.ExtraArguments"] = "--port 9000", "notes-ExtraArguments", "--port is set from the Port field; change it there instead." },
    };

    private const int ExistingPort = 18_555;

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Save_WithBadInput_ReRendersTheFormWithTheReason(string because, Action<Dictionary<string, string>> spoil, string notesId, string reason)
    {
        using var client = await app.SignedInAsync();
        await EnsureExistingAsync();
        var fields = Fields("Fresh " + because, Qwen, SeedProfiles.FreePort());
        spoil(fields);

        var response = await client.PostFormAsync("/profiles/new", fields);

        response.StatusCode.ShouldBe(HttpStatusCode.OK, because);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        html.ShouldContain("The profile was not saved: fix the fields marked below.");
        Notes(html, notesId).ShouldContain(reason, Case.Sensitive, because);
        (await SeedProfiles.FindAsync(app, "Fresh " + because)).ShouldBeNull();
        InputValue(html, "Input_Name").ShouldBe(fields["Input.Name"], "the form keeps what was typed");
    }

    [Fact]
    public async Task Save_WithWarningsOnly_Saves_AndTheFormShowsThemWhileEditing()
    {
        using var client = await app.SignedInAsync();
        var fields = Fields("Open to the network", Qwen, SeedProfiles.FreePort());
        fields["Input.Host"] = "0.0.0.0";
        fields["Input.TrustRemoteCode"] = "true";
        fields["Input.MaxTokens"] = "2048";
        fields["Input.Thinking"] = "Default";

        var live = WebUtility.HtmlDecode(await (await client.HtmxPostAsync("/profiles/new?handler=Live", "/profiles/new", fields)).Content.ReadAsStringAsync());
        var saved = await client.PostFormAsync("/profiles/new", fields);

        Notes(live, "notes-Host").ShouldContain("0.0.0.0 listens on every network interface");
        Notes(live, "notes-TrustRemoteCode").ShouldContain("Trust remote code lets the model repository run its own Python code");
        Notes(live, "notes-MaxTokens").ShouldContain("This model thinks before it answers");
        saved.StatusCode.ShouldBe(HttpStatusCode.Redirect);
    }

    [Fact]
    public async Task Live_AsTheContextLengthChanges_UpdatesTheEstimateAndTheCommand_OutOfBand()
    {
        using var client = await app.SignedInAsync();
        var fields = Fields("Live one", Qwen, 8123);
        fields["Input.Engine"] = "mlx-openai-server";
        fields["Input.ContextLength"] = "8192";

        var response = await client.HtmxPostAsync("/profiles/new?handler=Live", "/profiles/new", fields);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        html.ShouldContain("id=\"memory-estimate\" class=\"memory-estimate verdict-fits\" hx-swap-oob=\"true\"");
        html.ShouldContain("Memory at 8,192 tokens:");
        html.ShouldContain("id=\"command-preview\" class=\"command-preview\" hx-swap-oob=\"true\"");
        html.ShouldContain("--context-length 8192");
        html.ShouldContain("--model-type lm");
        html.ShouldNotContain("<input", Case.Sensitive, "the live answer never re-renders an input the user may be typing in");
        Notes(html, "notes-ContextLength").ShouldContain("Passed as --context-length.");

        fields["Input.ContextLength"] = "50000";
        var tooBig = WebUtility.HtmlDecode(await (await client.HtmxPostAsync("/profiles/new?handler=Live", "/profiles/new", fields)).Content.ReadAsStringAsync());
        Notes(tooBig, "notes-ContextLength").ShouldContain("beyond the model's window of 40,960 tokens");
    }

    [Fact]
    public async Task Edit_SavesChanges_AndKeepsTheNameUniqueAgainstOthersOnly()
    {
        using var client = await app.SignedInAsync();
        var profile = await SeedProfiles.AddAsync(app, "Editable", Qwen);
        var fields = Fields("Editable", Qwen, profile.Port);
        fields["Input.Description"] = "Now described";

        var response = await client.PostFormAsync($"/profiles/{profile.Id}/edit", fields);

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
        (await SeedProfiles.FindAsync(app, "Editable"))!.Description.ShouldBe("Now described");
    }

    [Fact]
    public async Task Duplicate_CopiesUnderANewNameAndAFreePort_ThenOpensTheCopy()
    {
        using var client = await app.SignedInAsync();
        var original = await SeedProfiles.AddAsync(app, "Original", Qwen, configure: p => p.SystemPrompt = "Keep it short.");

        var response = await client.PostFormAsync($"/profiles?handler=Duplicate&id={original.Id}", new Dictionary<string, string>(), "/profiles");

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var copy = (await SeedProfiles.FindAsync(app, "Original (copy)")).ShouldNotBeNull();
        response.Headers.Location!.OriginalString.ShouldBe($"/profiles/{copy.Id}/edit");
        copy.Port.ShouldNotBe(original.Port);
        copy.SystemPrompt.ShouldBe("Keep it short.");
        copy.ModelRef.ShouldBe(original.ModelRef);
        WebUtility.HtmlDecode(await client.GetHtmlAsync(response.Headers.Location.OriginalString)).ShouldContain("Copied \"Original\" to \"Original (copy)\"");
    }

    [Fact]
    public async Task NonAdmins_SeeProfiles_ButCannotCreateEditDuplicateOrDelete()
    {
        using var client = await app.SignedInAsync(admin: false);
        var profile = await SeedProfiles.AddAsync(app, "Look but do not touch", Qwen);

        var list = await client.GetHtmlAsync("/profiles");
        list.ShouldContain("Only administrators can create, change or delete profiles and start servers.");
        list.ShouldNotContain("href=\"/profiles/new\"");
        (await client.GetAsync("/profiles/new")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await client.GetAsync($"/profiles/{profile.Id}/edit")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await client.GetAsync($"/profiles/{profile.Id}/delete")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await client.PostFormAsync($"/profiles?handler=Duplicate&id={profile.Id}", new Dictionary<string, string>(), "/profiles"))
            .StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await client.PostFormAsync("/servers?handler=Start", new Dictionary<string, string> { ["profileId"] = profile.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, "/servers"))
            .StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    private async Task EnsureExistingAsync()
    {
        if (await SeedProfiles.FindAsync(app, "Existing") is null)
        {
            await SeedProfiles.AddAsync(app, "Existing", Qwen, configure: p => p.Port = ExistingPort);
        }
    }

    private static Dictionary<string, string> Fields(string name, string model, int port) => new()
    {
        ["Input.Name"] = name,
        ["Input.ModelRef"] = model,
        ["Input.Engine"] = "mlx_lm.server",
        ["Input.Host"] = "127.0.0.1",
        ["Input.Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Input.MaxTokens"] = "16384",
        ["Input.Thinking"] = "Off",
        ["Input.Temperature"] = "0.6",
        ["Input.TopK"] = "20",
        ["Input.SystemPrompt"] = "Be brief.",
        ["Input.EnvironmentVariables"] = "EMULATOR_TOKEN_RATE=400",
    };

    private static string SelectedOption(string html, string selectId)
    {
        var select = Regex.Match(html, $"<select id=\"{selectId}\".*?</select>", RegexOptions.Singleline);
        select.Success.ShouldBeTrue(selectId);
        var option = Regex.Match(select.Value, "<option value=\"([^\"]*)\" selected=\"selected\"");
        option.Success.ShouldBeTrue($"an option of {selectId} is selected");
        return WebUtility.HtmlDecode(option.Groups[1].Value);
    }

    private static string? InputValue(string html, string inputId)
    {
        var input = Regex.Match(html, $"<input id=\"{inputId}\"[^>]*>");
        input.Success.ShouldBeTrue(inputId);
        var value = Regex.Match(input.Value, "value=\"([^\"]*)\"");
        return value.Success ? WebUtility.HtmlDecode(value.Groups[1].Value) : null;
    }

    private static string Notes(string html, string notesId)
    {
        var notes = Regex.Match(html, $"<div id=\"{notesId}\".*?</div>", RegexOptions.Singleline);
        notes.Success.ShouldBeTrue(notesId);
        return notes.Value;
    }
}
