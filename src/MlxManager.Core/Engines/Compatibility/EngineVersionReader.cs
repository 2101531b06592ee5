using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using CliWrap;
using CliWrap.Buffered;
using Microsoft.Extensions.Logging;

namespace MlxManager.Core.Engines.Compatibility;

/// <summary>An engine's installed version and where it was read.</summary>
public sealed record EngineVersion(string Value, string Source);

/// <summary>
/// Reads an installed engine's version without pip: the package's <c>*.dist-info/METADATA</c> in the site-packages of
/// the Python its console script runs (shebang), or of the virtual environment holding the executable; failing
/// that, the executable's own version argument where it has one (mlx-openai-server), run with a timeout.
/// Cached per executable path and modification time.
/// </summary>
public sealed partial class EngineVersionReader(ILogger<EngineVersionReader> logger)
{
    public static readonly TimeSpan VersionTimeout = TimeSpan.FromSeconds(15);

    private readonly ConcurrentDictionary<(string Path, DateTime Modified), EngineVersion?> _cache = new();

    public async Task<EngineVersion?> ReadAsync(string executable, EngineLoaders engine, CancellationToken cancellationToken)
    {
        var key = (executable, File.GetLastWriteTimeUtc(executable));
        if (_cache.TryGetValue(key, out var known))
        {
            return known;
        }

        var version = FromMetadata(executable, engine.Package) ?? (engine.VersionArgument is { } argument ? await FromArgumentAsync(executable, argument, cancellationToken) : null);
        _cache[key] = version;
        return version;
    }

    /// <summary>The version in <c>&lt;prefix&gt;/lib/python*/site-packages/&lt;package&gt;-*.dist-info/METADATA</c>.</summary>
    public static EngineVersion? FromMetadata(string executable, string package)
    {
        var distribution = package.Replace('-', '_').ToLowerInvariant();
        foreach (var prefix in Prefixes(executable))
        {
            var lib = Path.Combine(prefix, "lib");
            if (!Directory.Exists(lib))
            {
                continue;
            }

            foreach (var python in Directory.EnumerateDirectories(lib, "python*"))
            {
                var sitePackages = Path.Combine(python, "site-packages");
                if (!Directory.Exists(sitePackages))
                {
                    continue;
                }

                foreach (var info in Directory.EnumerateDirectories(sitePackages, "*.dist-info"))
                {
                    var name = Path.GetFileName(info);
                    if (!name.StartsWith(distribution + "-", StringComparison.OrdinalIgnoreCase))
                    {
                        continue;
                    }

                    var metadata = Path.Combine(info, "METADATA");
                    var line = File.Exists(metadata) ? File.ReadLines(metadata).TakeWhile(l => l.Length > 0).FirstOrDefault(l => l.StartsWith("Version:", StringComparison.Ordinal)) : null;
                    if (line is not null)
                    {
                        return new EngineVersion(line["Version:".Length..].Trim(), metadata);
                    }
                }
            }
        }

        return null;
    }

    /// <summary>Environment prefixes to look in: the interpreter's (from a Python shebang), then the executable's own.</summary>
    private static IEnumerable<string> Prefixes(string executable)
    {
        var real = File.ResolveLinkTarget(executable, returnFinalTarget: true)?.FullName ?? executable;
        string? firstLine = null;
        try
        {
            using var reader = new StreamReader(real, Encoding.UTF8);
            var buffer = new char[512];
            var read = reader.Read(buffer, 0, buffer.Length);
            firstLine = new string(buffer, 0, read).Split('\n')[0];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unreadable: only the folder layout is left to go on.
        }

        if (firstLine is { } shebang && shebang.StartsWith("#!", StringComparison.Ordinal)
            && shebang[2..].Trim().Split(' ', 2)[0] is { } interpreter && Path.GetFileName(interpreter).StartsWith("python", StringComparison.Ordinal)
            && Path.GetDirectoryName(Path.GetDirectoryName(interpreter)) is { } interpreterPrefix)
        {
            yield return interpreterPrefix;
        }

        if (Path.GetDirectoryName(Path.GetDirectoryName(real)) is { } own)
        {
            yield return own;
        }
    }

    private async Task<EngineVersion?> FromArgumentAsync(string executable, string argument, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(VersionTimeout);
        try
        {
            var result = await Cli.Wrap(executable).WithArguments([argument]).WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(Encoding.UTF8, timeout.Token).ConfigureAwait(false);
            var match = VersionNumber().Match(result.StandardOutput);
            if (result.ExitCode == 0 && match.Success)
            {
                return new EngineVersion(match.Groups[1].Value, $"{Path.GetFileName(executable)} {argument}");
            }

            LogNoVersion(logger, executable, argument, result.ExitCode);
        }
        catch (Exception e) when (e is OperationCanceledException && !cancellationToken.IsCancellationRequested || e is System.ComponentModel.Win32Exception or IOException)
        {
            LogVersionFailed(logger, executable, argument, e.Message);
        }

        return null;
    }

    /// <summary>True when <paramref name="installed"/> is an older release than <paramref name="reference"/> (numeric parts compared).</summary>
    public static bool IsOlder(string installed, string reference) =>
        Numeric(installed) is { } a && Numeric(reference) is { } b && a < b;

    private static Version? Numeric(string version)
    {
        var match = LeadingNumbers().Match(version);
        return match.Success && Version.TryParse(match.Value.Contains('.', StringComparison.Ordinal) ? match.Value : match.Value + ".0", out var parsed) ? parsed : null;
    }

    [GeneratedRegex(@"Version:\s*(\d+(?:\.\d+)+\S*)")]
    private static partial Regex VersionNumber();

    [GeneratedRegex(@"^\d+(\.\d+){0,3}")]
    private static partial Regex LeadingNumbers();

    [LoggerMessage(Level = LogLevel.Information, Message = "{Executable} {Argument} exited with {ExitCode} and no version")]
    private static partial void LogNoVersion(ILogger logger, string executable, string argument, int exitCode);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Executable} {Argument} did not tell its version: {Reason}")]
    private static partial void LogVersionFailed(ILogger logger, string executable, string argument, string reason);
}
