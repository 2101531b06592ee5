using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Engines;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Chat.Infrastructure;
using MlxManager.Web.Tests.Ui.Infrastructure;
using MlxManager.Web.Tests.Ui.PageObjects;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace MlxManager.Web.Tests.Ui.Chat;

/// <summary>The UI host with emulated engines: a thinking + tools model on mlx_lm (slow enough to watch) and a vision model on mlx_vlm.</summary>
public sealed class ChatUiHost : UiHostFixture
{
    public EmulatedServers Servers { get; } = new([FixtureCatalog.QwenThinking, FixtureCatalog.QwenVision]);

    public override async Task InitializeAsync()
    {
        App.ConfigureServices = services => services.AddSingleton<IChatServerDirectory>(Servers);
        App.Settings["MlxManager:Chat:MaxImagePixels"] = "2000000"; // so a small panorama is over the budget
        await base.InitializeAsync();
        await Task.WhenAll(
            Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.QwenThinking, MlxLmServer.EngineKey, "Qwen3 thinking", id: 1),
                new Dictionary<string, string> { ["EMULATOR_TOKEN_RATE"] = "12" }),
            Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.QwenVision, MlxVlmServer.EngineKey, "Qwen2.5 VL", id: 2),
                new Dictionary<string, string> { ["EMULATOR_TOKEN_RATE"] = "60" }));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Servers.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ChatUi : ICollectionFixture<ChatUiHost>
{
    public const string Name = "Chat UI";
}

/// <summary>The chat in Chromium: streaming, the thinking panel collapsing, a tool bubble, an image dropped onto the chat.</summary>
[Collection(ChatUi.Name)]
[Trait("Category", "UI")]
public sealed class ChatUiTests(ChatUiHost host, ITestOutputHelper output) : UiTest(host, output)
{
    private const string Password = "a long enough password";

    public static TheoryData<ColorScheme> Schemes => new() { ColorScheme.Light, ColorScheme.Dark };

    [Theory]
    [MemberData(nameof(Schemes))]
    public async Task Chat_StreamsThinksCallsToolsAndTakesADroppedImage(ColorScheme scheme)
    {
        var name = scheme.ToString().ToLowerInvariant();
        var email = $"chat-{name}@example.com";
        await host.App.CreateUserAsync(email, Password);
        var page = await NewPageAsync(scheme);
        var chat = new ChatPage(page);

        await StepAsync($"empty-{name}", page, async () =>
        {
            await new LoginPage(page).SignInAsync(email, Password);
            await page.GotoAsync("/chat");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Chat", Exact = true })).ToBeVisibleAsync();
            await Expect(chat.ServerChoice("Qwen3 thinking")).ToBeVisibleAsync();
        });

        await StepAsync($"thinking-open-{name}", page, async () =>
        {
            await chat.StartConversationAsync("Qwen3 thinking");
            await Expect(chat.ServerStatus).ToContainTextAsync("Qwen3 thinking");
            await chat.SendAsync("Why do rivers meander across a flat plain?");
            // The first answer of a fresh host also connects to the MCP endpoint and warms everything up: allow time.
            await Expect(chat.LiveThinking).ToHaveAttributeAsync("open", "", new() { Timeout = 60_000 });
            await Expect(chat.LiveThinking.Locator("summary")).ToHaveTextAsync("Thinking…");
            await Expect(chat.Stop).ToBeVisibleAsync();
        });

        await StepAsync($"answer-streaming-{name}", page, async () =>
        {
            await Expect(chat.LiveThinking.Locator("summary")).ToHaveTextAsync(new Regex("^Thought for \\d+ s$"), new() { Timeout = 30_000 });
            await Expect(chat.LiveThinking).Not.ToHaveAttributeAsync("open", "");
            // Part of the answer is on the page while the message is still being written.
            await Expect(page.Locator("[data-testid=live-answer].streaming .msg-content")).Not.ToBeEmptyAsync();
        });

        await StepAsync($"answer-done-{name}", page, async () =>
        {
            await Expect(chat.AssistantMessages).ToHaveCountAsync(1, new() { Timeout = 30_000 });
            await Expect(chat.AssistantMessages.First.Locator("details.thinking summary")).ToHaveTextAsync(new Regex("^Thought for \\d+ s$"));
            await Expect(chat.AssistantMessages.First.GetByTestId("metrics")).ToContainTextAsync("tok/s");
            await Expect(chat.Send).ToBeVisibleAsync();
        });

        await StepAsync($"tool-bubble-{name}", page, async () =>
        {
            await chat.SendAsync("What is 12*7?");
            await Expect(chat.ToolBubbles).ToHaveCountAsync(1, new() { Timeout = 40_000 });
            await Expect(chat.ToolBubbles.First).ToContainTextAsync("calculate");
            await chat.ToolBubbles.First.Locator("summary").ClickAsync();
            await Expect(chat.ToolBubbles.First.Locator(".tool-result")).ToHaveTextAsync("84");
            await Expect(chat.AssistantMessages.Last).ToContainTextAsync("The calculate tool returned: \"84\"");
        });

        await StepAsync($"image-dropped-{name}", page, async () =>
        {
            await chat.StartConversationAsync("Qwen2.5 VL");
            await chat.DropImageAsync("sunset.png", MlxManager.Web.Tests.Chat.Infrastructure.Media.Png(96, 64));
            await Expect(chat.Previews).ToHaveCountAsync(1);
            await Expect(chat.Previews.First).ToContainTextAsync("sunset.png");
        });

        await StepAsync($"image-answered-{name}", page, async () =>
        {
            await chat.SendAsync("What is in this picture?");
            await Expect(page.Locator("#chat-messages .msg-user img")).ToHaveCountAsync(1, new() { Timeout = 30_000 });
            await Expect(chat.AssistantMessages.Last).ToContainTextAsync("[received 1 image: image/png 96x64");
        });

        await StepAsync($"image-too-large-{name}", page, async () =>
        {
            ExpectConsoleError(new Regex("/chat/\\d+: Failed to load resource: .* 422")); // the refused send, on purpose
            await chat.DropImageAsync("panorama.png", OversizedPng.Create(2000, 1500));
            await chat.SendAsync("And this one?");
            await Expect(page.Locator("#composer-problem")).ToHaveTextAsync(
                "panorama.png is 2000×1500 pixels (3 megapixels); images may have at most 2 megapixels.");
            await Expect(chat.Previews).ToHaveCountAsync(1); // the attachment stays for another try
        });
    }
}
