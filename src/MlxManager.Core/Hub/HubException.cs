using System.Net;

namespace MlxManager.Core.Hub;

/// <summary>What went wrong talking to the Hub, in the terms a user can act on.</summary>
public enum HubErrorKind
{
    /// <summary><c>HF_HUB_OFFLINE</c> is set: no request was made.</summary>
    Offline,

    /// <summary>Nothing answered (connection refused, DNS, reset) after every retry.</summary>
    Unreachable,

    /// <summary>The Hub did not answer in time after every retry.</summary>
    Timeout,

    /// <summary><c>X-Error-Code: RepoNotFound</c> (also what the Hub says for private repositories without access).</summary>
    RepoNotFound,

    /// <summary><c>X-Error-Code: RevisionNotFound</c>.</summary>
    RevisionNotFound,

    /// <summary><c>X-Error-Code: EntryNotFound</c>: the file is not in that revision.</summary>
    EntryNotFound,

    /// <summary><c>X-Error-Code: GatedRepo</c>: the licence must be accepted on the model page (and a token set).</summary>
    GatedRepo,

    /// <summary>401/403 without a code: a missing or rejected token.</summary>
    Unauthorized,

    /// <summary>429 after every retry.</summary>
    Throttled,

    /// <summary>5xx after every retry.</summary>
    ServerError,

    /// <summary>Any other refusal (400, 404 without a code, 416, …) or an answer that could not be read.</summary>
    BadResponse,
}

/// <summary>A failed Hub call. Subclasses name the cases callers handle differently; <see cref="Kind"/> names them all.</summary>
public class HubException : Exception
{
    public HubException(HubErrorKind kind, string message, Uri? endpoint = null, HttpStatusCode? status = null, string? errorCode = null, string? repoId = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        Endpoint = endpoint;
        Status = status;
        ErrorCode = errorCode;
        RepoId = repoId;
    }

    public HubErrorKind Kind { get; }

    /// <summary>The Hub endpoint the call went to.</summary>
    public Uri? Endpoint { get; }

    public HttpStatusCode? Status { get; }

    /// <summary>The Hub's <c>X-Error-Code</c>, when it sent one.</summary>
    public string? ErrorCode { get; }

    public string? RepoId { get; }
}

/// <summary><c>HF_HUB_OFFLINE</c> is set; the call was not made.</summary>
public sealed class HubOfflineException(Uri endpoint)
    : HubException(HubErrorKind.Offline, $"Offline mode (HF_HUB_OFFLINE) is on: the Hub at {endpoint.ToString().TrimEnd('/')} is not contacted.", endpoint);

/// <summary>The Hub could not be reached or did not answer in time, after every retry.</summary>
public sealed class HubUnreachableException(HubErrorKind kind, string message, Uri endpoint, Exception? inner)
    : HubException(kind, message, endpoint, inner: inner);

public sealed class HubRepoNotFoundException(string repoId, Uri endpoint, HttpStatusCode status, string? hubMessage)
    : HubException(HubErrorKind.RepoNotFound, $"{repoId} does not exist on {endpoint.ToString().TrimEnd('/')}, or it is private and the token (if any) has no access{Detail(hubMessage)}.", endpoint, status, "RepoNotFound", repoId)
{
    internal static string Detail(string? hubMessage) => string.IsNullOrWhiteSpace(hubMessage) ? string.Empty : $" (Hub: {hubMessage})";
}

public sealed class HubRevisionNotFoundException(string repoId, string revision, Uri endpoint, HttpStatusCode status, string? hubMessage)
    : HubException(HubErrorKind.RevisionNotFound, $"{repoId} has no revision \"{revision}\"{HubRepoNotFoundException.Detail(hubMessage)}.", endpoint, status, "RevisionNotFound", repoId)
{
    public string Revision { get; } = revision;
}

public sealed class HubEntryNotFoundException(string repoId, string path, string? commit, Uri endpoint, HttpStatusCode status, string? hubMessage)
    : HubException(HubErrorKind.EntryNotFound, $"{repoId} has no file {path}{(commit is null ? string.Empty : $" at {commit[..Math.Min(12, commit.Length)]}")}{HubRepoNotFoundException.Detail(hubMessage)}.", endpoint, status, "EntryNotFound", repoId)
{
    public string Path { get; } = path;

    /// <summary>The commit the Hub looked at (<c>X-Repo-Commit</c>), so callers can record the file as absent there.</summary>
    public string? Commit { get; } = commit;
}

/// <summary>A gated model: its licence must be accepted on <see cref="ModelPageUrl"/>, with a token of that account configured.</summary>
public sealed class HubGatedRepoException(string repoId, string modelPageUrl, bool hadToken, Uri endpoint, HttpStatusCode status)
    : HubException(HubErrorKind.GatedRepo,
        hadToken
            ? $"{repoId} is gated and the configured token has no access: accept its licence at {modelPageUrl} with the token's account."
            : $"{repoId} is gated: accept its licence at {modelPageUrl}, then set a Hugging Face token (Settings page or HF_TOKEN).",
        endpoint, status, "GatedRepo", repoId)
{
    public string ModelPageUrl { get; } = modelPageUrl;

    public bool HadToken { get; } = hadToken;
}

/// <summary>401/403 without an error code: the token is missing, wrong or lacks access.</summary>
public sealed class HubUnauthorizedException(string message, Uri endpoint, HttpStatusCode status, string? repoId)
    : HubException(HubErrorKind.Unauthorized, message, endpoint, status, null, repoId);
