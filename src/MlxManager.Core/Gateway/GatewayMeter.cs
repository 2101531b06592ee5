using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;
using MlxManager.Core.Usage;

namespace MlxManager.Core.Gateway;

/// <summary>
/// Starts a <see cref="GatewayMeter"/> per completion request and knows which request started each server run, so
/// exactly one ledger row per on-demand start says <see cref="UsageRecord.StartedServer"/>.
/// </summary>
public sealed class GatewayMetering(UsageLedger ledger, ServerSupervisor supervisor, TimeProvider time)
{
    private readonly ConcurrentDictionary<int, long> _claimedRuns = new();

    /// <summary>Starts measuring a request of <paramref name="userId"/> (through key <paramref name="apiKeyId"/>, if any) that arrived now.</summary>
    public GatewayMeter Begin(string userId, int? apiKeyId) => new(this, userId, apiKeyId);

    internal TimeProvider Time => time;

    internal UsageLedger Ledger => ledger;

    internal bool IsActive(int profileId) => supervisor.Find(profileId) is { IsActive: true, State: not ServerState.Stopping };

    /// <summary>True for the first caller claiming <paramref name="runId"/> of the profile: the request that caused the start.</summary>
    internal bool ClaimStart(int profileId, long runId)
    {
        while (true)
        {
            if (!_claimedRuns.TryGetValue(profileId, out var claimed))
            {
                if (_claimedRuns.TryAdd(profileId, runId))
                {
                    return true;
                }

                continue;
            }

            if (claimed >= runId)
            {
                return false;
            }

            if (_claimedRuns.TryUpdate(profileId, runId, claimed))
            {
                return true;
            }
        }
    }
}

/// <summary>
/// One gateway request's ledger row in the making. The endpoint tells it each step (<see cref="Asked"/>,
/// <see cref="Routed"/>, <see cref="Admitted"/>, <see cref="Ready"/>), shows it every SSE payload
/// (<see cref="OnEvent"/>, which also says whether to pass the payload on) or the whole answer (<see cref="OnAnswer"/>),
/// and how it ended; <see cref="Record"/> hands the row to the <see cref="UsageLedger"/>. Tokens come from the engine's
/// <c>usage</c> — asked for with <c>stream_options.include_usage</c> when the client did not, whose extra chunk is then
/// kept from the client — else they are estimated (<see cref="TokenEstimate"/>).
/// </summary>
public sealed class GatewayMeter
{
    private readonly GatewayMetering _metering;
    private readonly long _arrived;
    private readonly UsageRecord _row;
    private long _queuedAt;
    private bool _wasActive;
    private bool _stripUsageChunk;
    private long _promptCharacters;
    private int _pieces;
    private int _reasoningPieces;
    private long _answerCharacters;
    private bool _engineUsage;
    private bool _forwarded;
    private bool _recorded;

    internal GatewayMeter(GatewayMetering metering, string userId, int? apiKeyId)
    {
        _metering = metering;
        _arrived = metering.Time.GetTimestamp();
        _row = new UsageRecord
        {
            StartedAtUtc = metering.Time.GetUtcNow().UtcDateTime,
            UserId = userId,
            ApiKeyId = apiKeyId,
            Source = UsageSource.Gateway,
        };
    }

    /// <summary>The row as it stands (tests and the quota check read it).</summary>
    public UsageRecord Row => _row;

    /// <summary>
    /// Reads what the client sent: the model it named and the prompt's size (for an estimate). For a stream whose client
    /// did not ask for usage, asks the engine for it (<c>stream_options.include_usage</c>) and drops that chunk later.
    /// </summary>
    public void Asked(JsonObject body, string model, bool stream)
    {
        _row.Model = model;
        _promptCharacters = CharactersOf(body["messages"]) + CharactersOf(body["prompt"]);
        if (!stream)
        {
            return;
        }

        var options = body["stream_options"] as JsonObject;
        if (options?["include_usage"] is JsonValue include && include.GetValueKind() == JsonValueKind.True)
        {
            return;
        }

        options ??= [];
        options["include_usage"] = true;
        body["stream_options"] = options;
        _stripUsageChunk = true;
    }

    public void Routed(Profile profile)
    {
        _row.ProfileId = profile.Id;
        _row.ProfileName = profile.Name;
        _queuedAt = _metering.Time.GetTimestamp();
    }

    /// <summary>The request has its slot in the lane; what follows is waiting for the server, if it is not ready.</summary>
    public void Admitted()
    {
        _row.QueueWaitMs = Milliseconds(_queuedAt);
        _wasActive = _row.ProfileId is { } profileId && _metering.IsActive(profileId);
    }

    /// <summary>The server that will answer; the request started it when none was active when it was admitted.</summary>
    public void Ready(ServerSnapshot server)
    {
        _row.Model = server.Model.Reference;
        _row.StartedServer = !_wasActive && _metering.ClaimStart(server.Profile.Id, server.RunId);
        _forwarded = true;
    }

    /// <summary>Accounts for one SSE <c>data:</c> payload; false when it is not to be passed on (the usage chunk the client did not ask for).</summary>
    public bool OnEvent(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty || payload[0] != (byte)'{')
        {
            return true; // [DONE]
        }

        try
        {
            using var json = JsonDocument.Parse(payload.ToArray());
            var root = json.RootElement;
            var hasChoices = false;
            if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
            {
                foreach (var choice in choices.EnumerateArray())
                {
                    hasChoices = true;
                    if (choice.TryGetProperty("delta", out var delta))
                    {
                        CountDelta(delta);
                    }
                }
            }

            if (root.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
            {
                Failed(ErrorMessageOf(error));
            }

            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                ReadUsage(usage);
                return !(_stripUsageChunk && !hasChoices);
            }
        }
        catch (JsonException)
        {
            // Not JSON: passed on as it came, not counted.
        }

        return true;
    }

    /// <summary>Accounts for a whole (not streamed) answer.</summary>
    public void OnAnswer(ReadOnlySpan<byte> answer)
    {
        try
        {
            using var json = JsonDocument.Parse(answer.ToArray());
            var root = json.RootElement;
            if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
            {
                foreach (var choice in choices.EnumerateArray())
                {
                    _answerCharacters += TextLength(choice, "text");
                    if (choice.TryGetProperty("message", out var message))
                    {
                        _answerCharacters += TextLength(message, "content");
                        var reasoning = TextLength(message, "reasoning_content") + TextLength(message, "reasoning");
                        _answerCharacters += reasoning;
                        _reasoningPieces += TokenEstimate.OfCharacters(reasoning);
                    }
                }
            }

            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                ReadUsage(usage);
            }
        }
        catch (JsonException)
        {
            // An answer that is not JSON is passed on; its tokens are estimated from nothing.
        }
    }

    /// <summary>The request failed: refused by quota when <paramref name="error"/> says so, else an error.</summary>
    public void Failed(GatewayException error)
    {
        _row.Outcome = error.IsQuotaRefusal ? UsageOutcome.RefusedByQuota : UsageOutcome.Error;
        _row.Error = error.Message;
    }

    public void Failed(string message)
    {
        _row.Outcome = UsageOutcome.Error;
        _row.Error = message;
    }

    /// <summary>The client went away before the answer ended.</summary>
    public void Cancelled()
    {
        _row.Outcome = UsageOutcome.Cancelled;
        _row.Error = null;
    }

    /// <summary>Finishes the row (duration, tokens) and records it; only the first call counts.</summary>
    public void Record()
    {
        if (_recorded)
        {
            return;
        }

        _recorded = true;
        _row.DurationMs = Milliseconds(_arrived);
        if (_forwarded && !_engineUsage)
        {
            _row.PromptTokens = TokenEstimate.OfCharacters(_promptCharacters);
            _row.CompletionTokens = _pieces + TokenEstimate.OfCharacters(_answerCharacters);
            _row.TokensEstimated = true;
        }

        if (_row.ReasoningTokens == 0)
        {
            _row.ReasoningTokens = _reasoningPieces;
        }

        _metering.Ledger.Record(_row);
    }

    private void CountDelta(JsonElement delta)
    {
        var piece = TextLength(delta, "content") > 0;
        var reasoning = TextLength(delta, "reasoning_content") > 0 || TextLength(delta, "reasoning") > 0;
        var tool = delta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array && calls.GetArrayLength() > 0;
        if (!piece && !reasoning && !tool)
        {
            return;
        }

        _row.TimeToFirstTokenMs ??= Milliseconds(_arrived);
        _pieces++;
        _reasoningPieces += reasoning ? 1 : 0;
    }

    private void ReadUsage(JsonElement usage)
    {
        _engineUsage = true;
        _row.PromptTokens = IntOf(usage, "prompt_tokens");
        _row.CompletionTokens = IntOf(usage, "completion_tokens");
        if (usage.TryGetProperty("completion_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object
            && IntOf(details, "reasoning_tokens") is > 0 and var reasoning)
        {
            _row.ReasoningTokens = reasoning;
        }
    }

    private int Milliseconds(long since) => (int)Math.Min(int.MaxValue, _metering.Time.GetElapsedTime(since).TotalMilliseconds);

    private static int IntOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : 0;

    private static int TextLength(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()!.Length : 0;

    private static string ErrorMessageOf(JsonElement error) =>
        error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String
            ? message.GetString()!
            : error.ToString();

    /// <summary>Characters of text in a prompt: strings, and the <c>text</c>/<c>content</c> strings inside messages and parts.</summary>
    private static long CharactersOf(JsonNode? node) => node switch
    {
        JsonValue value when value.TryGetValue<string>(out var text) => text.Length,
        JsonArray array => array.Sum(CharactersOf),
        JsonObject message => CharactersOf(message["content"]) + CharactersOf(message["text"]),
        _ => 0,
    };
}
