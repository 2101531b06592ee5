using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MlxManager.Core.Accounts;
using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Engines;
using MlxManager.Core.Profiles;
using MlxManager.EngineEmulator.Installation;
using MlxManager.ModelFixtures;
using MlxManager.Web.Chat;
using MlxManager.Web.Hosting;

namespace MlxManager.Bench;

/// <summary>
/// <c>bench chat</c>: the same prompt answered by an emulated mlx_lm.server, read (a) directly by a streaming client
/// and (b) through the manager's chat (POST the message, read the turn's SSE stream), alternating, at a high token
/// rate that stresses the path and at a realistic one. Prints time to first token and tokens per second of both,
/// the throughput ratio (target ≥ 0.95) and the time the manager adds to the first token (target &lt; 20 ms).
/// A long answer (32k tokens at 500 tok/s, one run per side) also reports the most bytes the running turn kept for
/// late readers against the answer's final HTML (target ≤ 2×).
/// </summary>
public static partial class ChatBench
{
    private static readonly (int Rate, int Tokens, bool Long)[] Scenarios = [(500, 1500, false), (40, 160, false), (500, 32_000, true)];

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = args.Length >= 2 && args[0] == "--runs" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        var work = Directory.CreateTempSubdirectory("bench-chat-").FullName;
        try
        {
            var cache = Directory.CreateDirectory(Path.Combine(work, "hf")).FullName;
            HfCacheWriter.Write(cache, FixtureCatalog.Phi8Bit);
            var launchers = Path.Combine(work, "bin");
            LauncherInstaller.Install(launchers, LauncherKind.Exec, typeof(LauncherInstaller).Assembly.Location);

            Console.WriteLine($"chat stream benchmark: emulated mlx_lm.server ({FixtureCatalog.Phi8Bit.RepoId}), {runs} runs per side, alternating; {Environment.ProcessorCount} cores");
            Console.WriteLine();
            Console.WriteLine("rate tok/s | tokens | runs | direct TTFT ms | manager TTFT ms | added ms | direct tok/s | manager tok/s | ratio | kept KiB / answer KiB");
            var missed = new List<string>();
            foreach (var (rate, tokens, isLong) in Scenarios)
            {
                var sides = isLong ? 1 : runs;
                var result = await RunScenarioAsync(work, cache, launchers, rate, tokens, sides, warmUp: !isLong);
                var kept = result.KeptBytes / (double)result.AnswerBytes;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{rate,10} | {tokens,6} | {sides,4} | {result.DirectTtft,14:0.0} | {result.ManagerTtft,15:0.0} | {result.ManagerTtft - result.DirectTtft,8:0.0} | {result.DirectRate,12:0.0} | {result.ManagerRate,13:0.0} | {result.ManagerRate / result.DirectRate,5:0.000} | {result.KeptBytes / 1024.0:0} / {result.AnswerBytes / 1024.0:0} = {kept:0.00}x"));
                if (result.ManagerRate / result.DirectRate < 0.95)
                {
                    missed.Add($"stream ratio >= 0.95 at {rate} tok/s, {tokens} tokens");
                }

                if (result.ManagerTtft - result.DirectTtft >= 20)
                {
                    missed.Add($"< 20 ms added to the first token at {rate} tok/s, {tokens} tokens");
                }

                if (isLong && kept > 2)
                {
                    missed.Add($"kept bytes <= 2x the answer's HTML with {tokens} tokens");
                }
            }

            Console.WriteLine();
            Console.WriteLine("medians over the runs (the long answer: one run per side, no warm-up run); TTFT from sending the request to the");
            Console.WriteLine("first answer text (direct: first content delta; manager: POST of the message to the first `answer` SSE event);");
            Console.WriteLine("tok/s = (tokens - 1) / (last token - first token); kept = the most bytes the running turn held for late readers");
            Console.WriteLine("(ChatTurn.PeakRetainedBytes) against the final answer's HTML (rebuilt from the stream's deltas).");
            Console.WriteLine("targets: ratio >= 0.95, < 20 ms added, kept <= 2x the answer's HTML on the long answer");
            Console.WriteLine(missed.Count == 0 ? "targets met" : $"targets missed: {string.Join("; ", missed)}");
            return missed.Count == 0 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private sealed record Figures(double DirectTtft, double ManagerTtft, double DirectRate, double ManagerRate, long KeptBytes, long AnswerBytes);

    private sealed record ManagerSample(double Ttft, double Rate, long KeptBytes, long AnswerBytes);

    private static async Task<Figures> RunScenarioAsync(string work, string cache, string launchers, int rate, int tokens, int runs, bool warmUp)
    {
        var profile = new Profile { Id = 1, Name = "bench", ModelRef = FixtureCatalog.Phi8Bit.RepoId, Engine = MlxLmServer.EngineKey, Host = "127.0.0.1", Port = FreePort(), MaxTokens = 40_000 };
        using var engine = StartEngine(launchers, cache, profile, rate);
        try
        {
            return await MeasureAsync(work, profile, rate, tokens, runs, warmUp);
        }
        finally
        {
            engine.Kill(entireProcessTree: true);
            await engine.WaitForExitAsync();
        }
    }

    private static async Task<Figures> MeasureAsync(string work, Profile profile, int rate, int tokens, int runs, bool warmUp)
    {
        var directory = new BenchDirectory(new ChatServer(1, profile, profile.ModelRef, ChatModelCapabilities.TextOnly, ChatServerState.Ready));
        await using var manager = await StartManagerAsync(Path.Combine(work, $"data-{rate}"), directory);
        using var direct = new HttpClient { BaseAddress = directory.Server.BaseUri, Timeout = TimeSpan.FromMinutes(5) };
        await WaitReadyAsync(direct, profile.ModelRef);
        using var browser = await SignInAsync(manager.BaseUrl, manager.App);

        var prompt = $"Benchmark answer [[tokens:{tokens}]]";
        var directSamples = new List<(double Ttft, double Rate)>();
        var managerSamples = new List<ManagerSample>();
        var turns = manager.App.Services.GetRequiredService<ChatTurns>();
        for (var run = warmUp ? 0 : 1; run <= runs; run++)
        {
            var d = await DirectAsync(direct, profile.ModelRef, prompt, tokens);
            var m = await ThroughManagerAsync(browser, prompt, tokens, turns);
            if (run > 0)
            {
                // Run 0 warms up both paths (JIT, connections, the engine's prompt cache).
                directSamples.Add(d);
                managerSamples.Add(m);
            }
        }

        return new Figures(
            Median(directSamples.Select(s => s.Ttft)),
            Median(managerSamples.Select(s => s.Ttft)),
            Median(directSamples.Select(s => s.Rate)),
            Median(managerSamples.Select(s => s.Rate)),
            managerSamples.Max(s => s.KeptBytes),
            managerSamples.Max(s => s.AnswerBytes));
    }

    private static async Task<(double Ttft, double Rate)> DirectAsync(HttpClient http, string model, string prompt, int tokens)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            model,
            messages = new[] { new { role = "user", content = prompt } },
            stream = true,
            stream_options = new { include_usage = true },
        });
        var (first, last) = await StreamAsync(http, body);
        return (first, (tokens - 1) / ((last - first) / 1000));
    }

    /// <summary>
    /// POSTs a streaming chat completion (<paramref name="body"/>, with a Content-Length: mlx_lm.server refuses chunked
    /// bodies) and reads it to the end: milliseconds from sending to the first and to the last content delta.
    /// </summary>
    internal static async Task<(double First, double Last)> StreamAsync(HttpClient http, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        content.Headers.ContentLength = body.Length;
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = content };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double? first = null;
        double last = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line == "data: [DONE]")
            {
                break;
            }

            if (line.StartsWith("data: ", StringComparison.Ordinal) && line.Contains("\"content\"", StringComparison.Ordinal) && !line.Contains("\"content\": \"\"", StringComparison.Ordinal))
            {
                var now = clock.Elapsed.TotalMilliseconds;
                first ??= now;
                last = now;
            }
        }

        return (first ?? throw new InvalidOperationException("The stream carried no content."), last);
    }

    private static async Task<ManagerSample> ThroughManagerAsync(Browser browser, string prompt, int tokens, ChatTurns turns)
    {
        var conversation = await browser.NewConversationAsync();
        var token = await browser.TokenAsync($"/chat/{conversation}");
        using var form = new MultipartFormDataContent { { new StringContent(token), "__RequestVerificationToken" }, { new StringContent(prompt), "text" } };
        var clock = Stopwatch.StartNew();
        using var sent = await browser.Http.PostAsync($"/chat/{conversation}?handler=Send", form);
        sent.EnsureSuccessStatusCode();
        var turnId = JsonDocument.Parse(await sent.Content.ReadAsStringAsync()).RootElement.GetProperty("turnId").GetGuid();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/chat/turns/{turnId}/events");
        using var response = await browser.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double? first = null;
        double? end = null;
        string? type = null;
        string? data = null;
        var html = "";
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
                continue;
            }

            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line[6..];
                continue;
            }

            if (line.Length != 0 || type is null)
            {
                continue;
            }

            var now = clock.Elapsed.TotalMilliseconds;
            if (type == "answer")
            {
                first ??= now;
                html = ApplyAnswer(html, data!);
            }
            else if (type == "completed")
            {
                // The stream's end as the page sees it: the last render of the answer comes just before.
                end = now;
            }
            else if (type == "done")
            {
                break;
            }

            type = null;
        }

        var kept = turns.Find(turnId, browser.UserId)?.PeakRetainedBytes ?? throw new InvalidOperationException("The turn was not found.");
        return new ManagerSample(first!.Value, (tokens - 1) / ((end!.Value - first.Value) / 1000), kept, Encoding.UTF8.GetByteCount(html));
    }

    /// <summary>The answer as the page builds it: whole, or a delta keeping the first <c>at</c> characters.</summary>
    private static string ApplyAnswer(string html, string data)
    {
        using var json = JsonDocument.Parse(data);
        var piece = json.RootElement.GetProperty("html").GetString()!;
        return json.RootElement.TryGetProperty("at", out var at) ? string.Concat(html.AsSpan(0, at.GetInt32()), piece) : piece;
    }

    /// <summary>The profile's engine launched by hand (same launcher and arguments as the supervisor); <paramref name="environment"/> wins over the rates.</summary>
    internal static Process StartEngine(string launchers, string cache, Profile profile, int rate, IReadOnlyDictionary<string, string>? environment = null)
    {
        var engine = EngineRegistry.Discover().Get(profile.Engine);
        var start = new ProcessStartInfo(Path.Combine(launchers, engine.ExecutableName)) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in engine.BuildArguments(profile, new ResolvedModel(profile.ModelRef)))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["HF_HUB_CACHE"] = cache;
        start.Environment["EMULATOR_TOKEN_RATE"] = rate.ToString(CultureInfo.InvariantCulture);
        start.Environment["EMULATOR_PREFILL_RATE"] = "100000";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitReadyAsync(HttpClient http, string model)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                var body = $$"""{"model":"{{model}}","messages":[{"role":"user","content":"Hi"}],"max_tokens":1,"stream":false}""";
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await http.PostAsync("v1/chat/completions", content);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The emulated engine did not become ready.");
    }

    private sealed class RunningManager(WebApplication app, Uri baseUrl) : IAsyncDisposable
    {
        public WebApplication App { get; } = app;

        public Uri BaseUrl { get; } = baseUrl;

        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }

    private static async Task<RunningManager> StartManagerAsync(string dataFolder, IChatServerDirectory directory)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = ["--data", dataFolder], EnvironmentName = "Production", ApplicationName = typeof(MlxManager.Web.WebAppAssembly).Assembly.GetName().Name });
        builder.Logging.ClearProviders();
        builder.AddMlxManager();
        builder.Services.AddSingleton(directory);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.UseMlxManager();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RunningManager(app, new Uri(address));
    }

    private sealed partial class Browser(HttpClient http, string userId) : IDisposable
    {
        public HttpClient Http { get; } = http;

        public string UserId { get; } = userId;

        public async Task<string> TokenAsync(string page)
        {
            using var response = await Http.GetAsync(page);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"GET {page} answered {(int)response.StatusCode} {response.Headers.Location}");
            }

            var html = await response.Content.ReadAsStringAsync();
            return WebUtility.HtmlDecode(TokenPattern().Match(html).Groups[1].Value);
        }

        public async Task<int> NewConversationAsync()
        {
            var token = await TokenAsync("/chat");
            using var response = await Http.PostAsync("/chat?handler=New", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token, ["serverId"] = "1" }));
            return int.Parse(response.Headers.Location!.OriginalString.Split('/').Last(), CultureInfo.InvariantCulture);
        }

        public void Dispose() => Http.Dispose();

        [GeneratedRegex("<input[^>]*name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
        private static partial Regex TokenPattern();
    }

    private static async Task<Browser> SignInAsync(Uri baseUrl, WebApplication app)
    {
        const string Email = "bench@example.com";
        const string Password = "a long enough password";
        string userId;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var user = await users.FindByEmailAsync(Email);
            if (user is null)
            {
                user = new AppUser { UserName = Email, Email = Email, Status = UserStatus.Active, CreatedAtUtc = DateTime.UtcNow };
                var created = await users.CreateAsync(user, Password);
                if (!created.Succeeded)
                {
                    throw new InvalidOperationException(string.Join("; ", created.Errors.Select(e => e.Description)));
                }
            }

            userId = user.Id;
        }

        var browser = new Browser(new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(5) }, userId);
        var token = await browser.TokenAsync("/login");
        using var login = await browser.Http.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["Input.Email"] = Email,
            ["Input.Password"] = Password,
        }));
        if (login.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException("Signing in failed.");
        }

        return browser;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class BenchDirectory(ChatServer server) : IChatServerDirectory
    {
        public ChatServer Server { get; } = server;

        public ValueTask<IReadOnlyList<ChatServer>> ListAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IReadOnlyList<ChatServer>>([Server]);

        public ValueTask<ChatServer?> FindAsync(int serverId, CancellationToken cancellationToken) => ValueTask.FromResult<ChatServer?>(serverId == Server.ServerId ? Server : null);

        public Task<ChatServer?> WaitUntilReadyOrFailedAsync(int serverId, CancellationToken cancellationToken) => Task.FromResult<ChatServer?>(Server);

        public Task<ChatServerStart> StartProfileAsync(int profileId, string userId, CancellationToken cancellationToken) =>
            Task.FromResult(ChatServerStart.Refused("The benchmark starts its engine itself."));
    }
}
