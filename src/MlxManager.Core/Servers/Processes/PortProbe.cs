using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CliWrap;
using CliWrap.Buffered;
using Microsoft.Extensions.Logging;

namespace MlxManager.Core.Servers.Processes;

/// <summary>A process listening on a port, as far as the platform tells.</summary>
/// <param name="Pid">Its process id.</param>
/// <param name="Name">Its command name (e.g. <c>python3.12</c>).</param>
/// <param name="CommandLine">Its command line when readable, else null.</param>
public sealed record PortHolder(int Pid, string Name, string? CommandLine)
{
    public string Describe() => CommandLine is { Length: > 0 } command
        ? $"{Name} (pid {Pid}: {Shorten(command)})"
        : $"{Name} (pid {Pid})";

    private static string Shorten(string text) => text.Length <= 160 ? text : text[..160] + "…";
}

/// <summary>
/// Is a TCP port free to listen on, is something answering there, and who holds it: <c>/proc/net/tcp*</c> plus
/// the processes' socket descriptors on Linux, <c>lsof</c> on macOS.
/// </summary>
public sealed partial class PortProbe(ILogger<PortProbe> logger)
{
    /// <summary>
    /// True when nothing listens on <paramref name="host"/>:<paramref name="port"/>: a listener can be bound there
    /// and no connection is accepted. Host names are resolved; the wildcard addresses are tested as such.
    /// </summary>
    public async Task<bool> IsFreeAsync(string host, int port, CancellationToken cancellationToken)
    {
        var addresses = await ResolveAsync(host, cancellationToken).ConfigureAwait(false);
        foreach (var address in addresses)
        {
            try
            {
                using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                // As the engines do (Python's HTTP servers and uvicorn set it): a port whose last connections
                // linger in TIME_WAIT after a stop is free for them, so it is free here too.
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                socket.Bind(new IPEndPoint(address, port));
                socket.Listen(1);
            }
            catch (SocketException)
            {
                return false; // in use (or not ours to bind; either way the engine could not listen there)
            }
        }

        return !await AnswersAsync(host, port, TimeSpan.FromMilliseconds(300), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True when a TCP connection to <paramref name="host"/>:<paramref name="port"/> is accepted within <paramref name="timeout"/>.</summary>
    public static async Task<bool> AnswersAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(ConnectableHost(host), port, deadline.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Refused or no answer in time: nothing serves there.
            return false;
        }
    }

    /// <summary>The host to connect to for a listening host: the wildcard addresses mean "this machine".</summary>
    public static string ConnectableHost(string host) => host.Trim() switch
    {
        "0.0.0.0" or "" => "127.0.0.1",
        "::" or "[::]" => "::1",
        var other => other.Trim('[', ']'),
    };

    /// <summary>Who listens on <paramref name="port"/>, or null when the platform does not tell (or nobody does).</summary>
    public async Task<PortHolder?> FindHolderAsync(int port, CancellationToken cancellationToken)
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                return FindHolderLinux(port);
            }

            if (OperatingSystem.IsMacOS() && File.Exists("/usr/sbin/lsof"))
            {
                return await FindHolderWithLsofAsync(port, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            LogLookupFailed(logger, port, e);
        }

        return null;
    }

    private static async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        var trimmed = host.Trim().Trim('[', ']');
        if (IPAddress.TryParse(trimmed, out var literal))
        {
            return [literal];
        }

        try
        {
            var found = await Dns.GetHostAddressesAsync(trimmed, cancellationToken).ConfigureAwait(false);
            return found.Length > 0 ? found.Distinct().ToList() : [IPAddress.Loopback];
        }
        catch (SocketException)
        {
            // An unresolvable name: the engine will fail to bind with its own message; test loopback meanwhile.
            return [IPAddress.Loopback];
        }
    }

    private static PortHolder? FindHolderLinux(int port)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }

            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 10 || fields[3] != "0A")
                {
                    continue; // 0A = LISTEN
                }

                var colon = fields[1].LastIndexOf(':');
                if (colon > 0 && int.TryParse(fields[1].AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var local) && local == port)
                {
                    inodes.Add($"socket:[{fields[9]}]");
                }
            }
        }

        if (inodes.Count == 0)
        {
            return null;
        }

        foreach (var process in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(process), out var pid))
            {
                continue;
            }

            IEnumerable<string> descriptors;
            try
            {
                descriptors = Directory.EnumerateFiles(Path.Combine(process, "fd")).ToList();
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                continue; // another user's process, or gone: its sockets are not ours to see
            }

            foreach (var descriptor in descriptors)
            {
                string? target;
                try
                {
                    target = new FileInfo(descriptor).LinkTarget;
                }
                catch (Exception e) when (e is UnauthorizedAccessException or IOException)
                {
                    continue; // closed meanwhile
                }

                if (target is not null && inodes.Contains(target))
                {
                    var name = ReadText(Path.Combine(process, "comm"))?.Trim() ?? "a process";
                    var command = ReadText(Path.Combine(process, "cmdline"))?.Replace('\0', ' ').Trim();
                    return new PortHolder(pid, name, command);
                }
            }
        }

        return new PortHolder(0, "a process of another user", null);
    }

    private static async Task<PortHolder?> FindHolderWithLsofAsync(int port, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        var result = await Cli.Wrap("/usr/sbin/lsof")
            .WithArguments(["-nP", $"-iTCP:{port.ToString(CultureInfo.InvariantCulture)}", "-sTCP:LISTEN", "-Fpc"])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(Encoding.UTF8, timeout.Token)
            .ConfigureAwait(false);
        int? pid = null;
        foreach (var line in result.StandardOutput.Split('\n'))
        {
            if (line.StartsWith('p') && int.TryParse(line.AsSpan(1), out var p))
            {
                pid = p;
            }
            else if (line.StartsWith('c') && pid is { } found)
            {
                return new PortHolder(found, line[1..].Trim(), null);
            }
        }

        return pid is { } only ? new PortHolder(only, "a process", null) : null;
    }

    private static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // the process ended while we looked: describe it without this detail
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not tell who listens on port {Port}")]
    private static partial void LogLookupFailed(ILogger logger, int port, Exception exception);
}
