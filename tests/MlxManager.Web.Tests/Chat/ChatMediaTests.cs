using System.Net;
using System.Text.Json;
using MlxManager.Core.Chat.History;
using MlxManager.Core.Engines;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Chat.Infrastructure;

namespace MlxManager.Web.Tests.Chat;

/// <summary>CHAT-02/03 end to end: images, video and text files reach the engine as it takes them (the emulator echoes what it received).</summary>
public sealed class ChatMediaTests(FlavourHost host) : IClassFixture<FlavourHost>
{
    public static TheoryData<string> VisionServers => new() { MlxVlmServer.EngineKey, FlavourHost.OpenAiVision };

    [Theory]
    [MemberData(nameof(VisionServers))]
    public async Task Image_ReachesTheEngine_AndLaterTurnsStillCarryIt(string server)
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ByEngine[server].ServerId);

        var echo = await user.EchoAsync(conversation, "What is in this picture? [[echo]]", ("photo.png", "image/png", Infrastructure.Media.Png(64, 48)));

        Received(echo).ShouldHaveSingleItem().ShouldContain("image/png 64x48");
        echo.GetProperty("messages").EnumerateArray().Last().GetProperty("parts").EnumerateArray().Select(p => p.GetString()).ShouldContain("image_url");
        var attachment = (await user.SavedMessagesAsync(conversation)).First().Attachments.ShouldHaveSingleItem();
        attachment.Kind.ShouldBe(AttachmentKind.Image);
        (await user.App.GetAsync($"/chat/attachments/{attachment.Id}")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var later = await user.EchoAsync(conversation, "And now? [[echo]]");
        Received(later).ShouldHaveSingleItem().ShouldContain("image/png 64x48");
    }

    [Fact]
    public async Task VeryLargeImage_IsScaledDownBeforeItIsSent()
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ByEngine[MlxVlmServer.EngineKey].ServerId);

        var echo = await user.EchoAsync(conversation, "[[echo]]", ("huge.png", "image/png", Infrastructure.Media.Png(4000, 2000)));

        Received(echo).ShouldHaveSingleItem().ShouldContain("2048x1024");
    }

    [Theory]
    [MemberData(nameof(VisionServers))]
    public async Task Video_GoesAsVideoUrl_ToEnginesThatTakeIt(string server)
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ByEngine[server].ServerId);
        var video = Infrastructure.Media.TestVideo();

        var echo = await user.EchoAsync(conversation, "Describe the clip [[echo]]", ("clip.mp4", "video/mp4", video));

        Received(echo).ShouldHaveSingleItem().ShouldContain($"video/mp4, {video.Length} bytes");
        echo.GetProperty("messages").EnumerateArray().Last().GetProperty("parts").EnumerateArray().Select(p => p.GetString()).ShouldContain("video_url");
    }

    [Fact]
    public async Task VideoAboveKestrelsDefaultLimit_WithinTheSettings_ReachesTheEngine()
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ByEngine[MlxVlmServer.EngineKey].ServerId);
        var video = new byte[36 * 1024 * 1024]; // Kestrel's default stops a request at 30 MB
        "ftypisom"u8.CopyTo(video.AsSpan(4));

        var echo = await user.EchoAsync(conversation, "Describe the long clip [[echo]]", ("long.mp4", "video/mp4", video));

        Received(echo).ShouldHaveSingleItem().ShouldContain($"video/mp4, {video.Length} bytes");
    }

    [Fact]
    public async Task TextFile_IsInlinedIntoTheMessage()
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ByEngine[MlxLmServer.EngineKey].ServerId);

        var echo = await user.EchoAsync(conversation, "Summarise the file [[echo]]", ("notes.md", "text/markdown", "The secret word is banana.\n"u8.ToArray()));

        var content = echo.GetProperty("messages").EnumerateArray().Last().GetProperty("content").GetString()!;
        content.ShouldContain("File: notes.md");
        content.ShouldContain("The secret word is banana.");
    }

    [Fact]
    public async Task Image_ToAModelWithoutVision_IsRefusedWithTheReason()
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ByEngine[MlxLmServer.EngineKey].ServerId);

        var response = await user.PostMessageAsync(conversation, "What is this?", ("photo.png", "image/png", Infrastructure.Media.Png(32, 32)));

        response.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
        error.ShouldBe("photo.png was not attached: mlx-community/Qwen3-4B-4bit cannot see images or video: its files show no vision tower.");
        (await user.SavedMessagesAsync(conversation)).ShouldBeEmpty();
    }

    [Fact]
    public async Task TooManyOrTooLargeAttachments_AreRefusedWithClearMessages()
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ByEngine[MlxVlmServer.EngineKey].ServerId);
        var nine = Enumerable.Range(1, 9).Select(i => ($"n{i}.txt", "text/plain", "x"u8.ToArray())).ToArray();

        var tooMany = await user.PostMessageAsync(conversation, "files", nine);
        var tooLarge = await user.PostMessageAsync(conversation, "file", ("big.txt", "text/plain", new byte[600 * 1024]));
        var binary = await user.PostMessageAsync(conversation, "file", ("data.bin", "application/octet-stream", new byte[] { 0, 1, 2, 3 }));

        (await Error(tooMany)).ShouldBe("At most 8 attachments per message (9 were added).");
        (await Error(tooLarge)).ShouldBe("big.txt is 600 KB; a text file may be at most 512 KB.");
        (await Error(binary)).ShouldBe("data.bin is neither an image, a video nor a UTF-8 text file.");
    }

    [Fact]
    public async Task ImageOfTooManyPixels_IsRefusedWithItsSize_AndNothingIsSaved()
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ByEngine[MlxVlmServer.EngineKey].ServerId);

        var response = await user.PostMessageAsync(conversation, "Look", ("bomb.png", "image/png", OversizedPng.Create(12000, 12000)));

        (await Error(response)).ShouldBe("bomb.png is 12000×12000 pixels (144 megapixels); images may have at most 50 megapixels.");
        (await user.SavedMessagesAsync(conversation)).ShouldBeEmpty();
    }

    private static async Task<string?> Error(HttpResponseMessage response)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
    }

    private static List<string> Received(JsonElement echo) => echo.GetProperty("media").EnumerateArray().Select(m => m.GetString()!).ToList();
}

/// <summary>A host whose chat sends videos as frames extracted with ffmpeg (for engines without video_url).</summary>
public sealed class FramesHost : ChatHost
{
    public FramesHost()
    {
        Settings["MlxManager:Chat:VideoDelivery"] = "Frames";
    }

    public int ServerId { get; private set; }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        ServerId = (await Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.QwenVision, MlxVlmServer.EngineKey, id: 21))).ServerId;
    }
}

/// <summary>Video as frames: ffmpeg extracts them (1 per second) and they reach the engine as images.</summary>
public sealed class ChatVideoFramesTests(FramesHost host) : IClassFixture<FramesHost>
{
    [Fact]
    public async Task Video_GoesAsExtractedFrames_WhenTheEngineTakesNoVideo()
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ServerId);

        var turn = await user.TurnAsync(conversation, "Describe the clip [[echo]]", ("clip.mp4", "video/mp4", Media.TestVideo(seconds: 3)));

        turn.Outcome.ShouldBe("answered", turn.Describe());
        var answer = (await user.LastAnswerAsync(conversation)).Content;
        using var echo = JsonDocument.Parse(answer[answer.IndexOf('{')..]);
        var media = echo.RootElement.GetProperty("media").EnumerateArray().Select(m => m.GetString()!).ToList();
        media.Count.ShouldBe(3, string.Join("; ", media));
        media.ShouldAllBe(m => m.Contains("image/jpeg 320x240"));
    }
}
