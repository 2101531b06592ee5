using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MlxManager.Core.Servers;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Infrastructure;
using MlxManager.Web.Tests.Servers.Infrastructure;
using MlxManager.Web.Tests.Ui.Infrastructure;
using MlxManager.Web.Tests.Ui.PageObjects;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace MlxManager.Web.Tests.Ui;

/// <summary>A UI host whose engines are the EngineEmulator and whose HF cache holds the fixture models.</summary>
public sealed class ServersUiHostFixture : UiHostFixture
{
    public ServersUiHostFixture() => EngineWorld.Instance.Configure(App);
}

[CollectionDefinition(Name)]
public sealed class ServersUi : ICollectionFixture<ServersUiHostFixture>
{
    public const string Name = "Servers UI";
}

/// <summary>SERVER-01..03 in Chromium: pick by typing, start, watch it load and measure, scroll stays put, logs, stop.</summary>
[Collection(ServersUi.Name)]
[Trait("Category", "UI")]
public sealed class ServersUiTests(ServersUiHostFixture fixture, ITestOutputHelper output) : UiTest(fixture, output)
{
    private const string Password = "a long enough password";

    private ServerSupervisor Supervisor => Fixture.App.Services.GetRequiredService<ServerSupervisor>();

    [Fact]
    public async Task PickStartWatchScrollLogsStop()
    {
        await Fixture.App.CreateUserAsync("ops@example.com", Password, admin: true);
        var qwen = await SeedProfiles.AddAsync(Fixture.App, "Qwen3 thinking", FixtureCatalog.QwenThinking.RepoId,
            configure: p => p.EnvironmentVariables = "EMULATOR_LOAD_RATE=4M\nEMULATOR_TOKEN_RATE=25");
        await SeedProfiles.AddAsync(Fixture.App, "Llama tools", FixtureCatalog.LlamaTools.RepoId);
        await SeedProfiles.AddAsync(Fixture.App, "Gemma vision", FixtureCatalog.GemmaVision.RepoId, "mlx_vlm.server");
        var page = await NewPageAsync();
        var servers = new ServersPage(page);

        await StepAsync("sign-in", page, async () =>
        {
            await new LoginPage(page).SignInAsync("ops@example.com", Password);
            await page.GotoAsync("/servers");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Servers", Exact = true })).ToBeVisibleAsync();
        });
        await StepAsync("pick-by-typing", page, async () =>
        {
            await servers.PickByTypingAsync("qw", "Qwen3 thinking");
            await Expect(servers.Option("Llama tools")).ToBeHiddenAsync();
        });
        await StepAsync("start", page, async () =>
        {
            await servers.StartButton.ClickAsync();
            await Expect(servers.Message).ToContainTextAsync("Started \"Qwen3 thinking\"");
            await Expect(servers.Tile(qwen.Id)).ToBeVisibleAsync();
            await Expect(servers.State(qwen.Id)).ToHaveTextAsync(new Regex("starting|loading|ready"));
        });
        await StepAsync("ready", page, async () =>
        {
            await Expect(servers.State(qwen.Id)).ToHaveTextAsync("ready", new() { Timeout = 60_000 });
            await Expect(servers.Memory(qwen.Id)).ToHaveTextAsync(new Regex(@"\d+(\.\d)? MiB"));
        });
        await StepAsync("logs-open", page, async () =>
        {
            await servers.LogsButton(qwen.Id).ClickAsync();
            await Expect(servers.LogsPanel(qwen.Id)).ToBeVisibleAsync();
            await Expect(servers.LogLines(qwen.Id)).ToContainTextAsync("Ready: answered a one-token completion");
        });
        await StepAsync("scroll-stays-while-gauges-move", page, async () =>
        {
            await page.SetViewportSizeAsync(1280, 560);
            var server = Supervisor.Find(qwen.Id)!;
            var generating = Task.Run(() => AskAsync(server, "Tell me a long story [[tokens:250]]"));
            await page.EvaluateAsync("() => window.scrollTo(0, document.documentElement.scrollHeight)");
            var scrolled = await page.EvaluateAsync<double>("() => window.scrollY");
            scrolled.ShouldBeGreaterThan(0, "the page is taller than the window");
            await servers.StopButton(qwen.Id).FocusAsync();
            await servers.CountLiveSwapsAsync();
            var cpuReadings = new HashSet<string>();
            var uptimes = new HashSet<string>();
            for (var i = 0; i < 40 && (await servers.LiveSwapsAsync() < 4 || cpuReadings.Count < 2); i++)
            {
                cpuReadings.Add(await servers.Cpu(qwen.Id).InnerTextAsync());
                uptimes.Add(await servers.Uptime(qwen.Id).InnerTextAsync());
                await page.WaitForTimeoutAsync(250);
            }

            (await servers.LiveSwapsAsync()).ShouldBeGreaterThanOrEqualTo(4, "the live region was refreshed several times");
            cpuReadings.Count.ShouldBeGreaterThanOrEqualTo(2, "the CPU gauge moves while the model generates");
            uptimes.Count.ShouldBeGreaterThanOrEqualTo(2, "the uptime counts");
            (await page.EvaluateAsync<double>("() => window.scrollY")).ShouldBe(scrolled, "updates never move the page");
            await Expect(servers.LogsPanel(qwen.Id)).ToBeVisibleAsync();
            await Expect(servers.LogsButton(qwen.Id)).ToHaveAttributeAsync("aria-expanded", "true");
            (await page.EvaluateAsync<string>("() => document.activeElement && document.activeElement.id")).ShouldBe($"server-stop-{qwen.Id}", "focus survives the updates");
            await generating;
            await Expect(servers.LogLines(qwen.Id)).ToContainTextAsync("POST /v1/chat/completions", new() { Timeout = 15_000 });
        });
        await StepAsync("chat-from-the-tile", page, async () =>
        {
            await page.SetViewportSizeAsync(1280, 800);
            await page.GetByTestId("chat-link").And(page.Locator($"#server-chat-{qwen.Id}")).ClickAsync();
            await page.WaitForURLAsync(new Regex(@"/chat/\d+$"));
            var chat = new Chat.ChatPage(page);
            await chat.SendAsync("Hello from the Servers page [[tokens:8]]");
            await Expect(chat.AssistantMessages.Last).ToBeVisibleAsync(new() { Timeout = 60_000 });
            await Expect(chat.AssistantMessages.Last).Not.ToBeEmptyAsync();
        });
        await StepAsync("stop", page, async () =>
        {
            await page.GotoAsync("/servers");
            await servers.StopButton(qwen.Id).ClickAsync();
            await Expect(servers.State(qwen.Id)).ToHaveTextAsync("stopped", new() { Timeout = 30_000 });
            await Expect(servers.Message).ToContainTextAsync("Stopped \"Qwen3 thinking\".");
        });
    }

    public static TheoryData<ColorScheme> Schemes => new() { ColorScheme.Light, ColorScheme.Dark };

    [Theory]
    [MemberData(nameof(Schemes))]
    public async Task ServersAndProfilesPages_RenderCleanly(ColorScheme scheme)
    {
        var name = scheme.ToString().ToLowerInvariant();
        var email = $"looks-{name}@example.com";
        await Fixture.App.CreateUserAsync(email, Password, admin: true);
        var ready = await SeedProfiles.AddAsync(Fixture.App, $"Phi ({name})", FixtureCatalog.Phi8Bit.RepoId,
            configure: p => p.Description = "Small and quick, for trying things out.");
        var broken = await SeedProfiles.AddAsync(Fixture.App, $"Frobnicator ({name})", FixtureCatalog.Unsupported.RepoId, "mlx-openai-server");
        await Supervisor.StartServerAsync(ready.Id, CancellationToken.None);
        await Supervisor.StartServerAsync(broken.Id, CancellationToken.None);
        await Supervisor.WaitUntilSettledAsync(ready.Id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        await Supervisor.WaitUntilSettledAsync(broken.Id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        var page = await NewPageAsync(scheme);
        var servers = new ServersPage(page);

        await StepAsync($"servers-{name}", page, async () =>
        {
            await new LoginPage(page).SignInAsync(email, Password);
            await page.GotoAsync("/servers");
            await Expect(servers.State(ready.Id)).ToHaveTextAsync("ready");
            await Expect(servers.State(broken.Id)).ToHaveTextAsync("failed");
            await Expect(servers.Tile(broken.Id).GetByTestId("failure-lines")).ToContainTextAsync("frobnicator");
            await Expect(servers.Cpu(ready.Id)).ToHaveTextAsync(new Regex("%"));
        });
        await StepAsync($"servers-logs-{name}", page, async () =>
        {
            await servers.LogsButton(ready.Id).ClickAsync();
            await Expect(servers.LogLines(ready.Id)).ToContainTextAsync("Ready: answered");
        });
        await StepAsync($"picker-{name}", page, async () =>
        {
            await servers.Picker.ClickAsync();
            await Expect(servers.Options).ToBeVisibleAsync();
        });
        await StepAsync($"profiles-{name}", page, async () =>
        {
            await page.GotoAsync("/profiles");
            await Expect(page.GetByTestId("profiles-table")).ToContainTextAsync($"Phi ({name})");
        });
        await StepAsync($"profile-new-{name}", page, async () =>
        {
            await page.GotoAsync("/profiles/new?model=" + Uri.EscapeDataString(FixtureCatalog.QwenThinking.RepoId));
            await Expect(page.GetByTestId("command-preview")).ToContainTextAsync("--max-tokens 16384");
            await page.GetByLabel("Context length").FillAsync("50000");
            await Expect(page.GetByTestId("notes-ContextLength")).ToContainTextAsync("beyond the model's window");
            await page.GetByLabel("Context length").FillAsync("8192");
            await Expect(page.GetByTestId("memory-estimate")).ToContainTextAsync("Memory at 8,192 tokens");
            await page.GetByLabel("Engine").SelectOptionAsync("mlx-openai-server");
            await Expect(page.GetByLabel("Tool-call parser")).ToBeEnabledAsync();
            await Expect(page.GetByTestId("command-preview")).ToContainTextAsync("--context-length 8192");
            await page.GetByLabel("Engine").SelectOptionAsync("mlx_lm.server");
            await Expect(page.GetByLabel("Tool-call parser")).ToBeDisabledAsync();
            await page.GetByLabel("Host").FillAsync("0.0.0.0");
            await Expect(page.GetByTestId("notes-Host")).ToContainTextAsync("listens on every network interface");
            await page.GetByLabel("Gateway names").FillAsync($"qwen-{name}, phi-{name}");
            await Expect(page.GetByTestId("gateway-fields")).ToContainTextAsync("Start on demand");
        });
        await StepAsync($"profile-delete-{name}", page, async () =>
        {
            await page.GotoAsync($"/profiles/{ready.Id}/delete");
            await Expect(page.GetByTestId("running-warning")).ToContainTextAsync("Its server is ready");
        });
        await Supervisor.StopServerAsync(ready.Id, CancellationToken.None);
    }

    private static async Task AskAsync(ServerSnapshot server, string prompt)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        var body = System.Text.Json.JsonSerializer.Serialize(new
        {
            model = server.Model.Reference,
            messages = new[] { new { role = "user", content = prompt } },
            max_tokens = 400,
        });
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(server.ChatCompletionsUrl, content);
        response.EnsureSuccessStatusCode();
    }
}
