using System.ComponentModel;
using System.Runtime.InteropServices;

namespace MlxManager.Core.Servers.Processes;

/// <summary>What an engine is started with: everything explicit, nothing inherited by accident.</summary>
/// <param name="Executable">Absolute path of the file to execute (a script with a <c>#!</c> line works too).</param>
/// <param name="Arguments">The argument list, without the program name. Never parsed by a shell.</param>
/// <param name="Environment">The complete environment of the new process.</param>
/// <param name="WorkingDirectory">An existing folder the process starts in.</param>
/// <param name="OutputPath">File that receives the process's stdout and stderr (created or appended to, opened with O_APPEND).</param>
public sealed record DetachedLaunch(
    string Executable,
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string> Environment,
    string WorkingDirectory,
    string OutputPath);

/// <summary>How a process ended, as <c>waitpid</c> reports it.</summary>
/// <param name="ExitCode">The exit status when it exited normally.</param>
/// <param name="Signal">The signal that ended it otherwise.</param>
public sealed record ProcessExit(int? ExitCode, int? Signal)
{
    /// <summary>The process is gone, but it was not our child (re-attached after a manager restart): no status.</summary>
    public static readonly ProcessExit Unknown = new(null, null);

    /// <summary>"exited with code 1", "was killed by signal 9 (SIGKILL)", or "ended (its exit status is unknown…)".</summary>
    public string Describe() => (ExitCode, Signal) switch
    {
        ({ } code, _) => $"exited with code {code}",
        (_, { } signal) => $"was killed by signal {signal} ({PosixProcesses.SignalName(signal)})",
        _ => "ended (its exit status is unknown: the manager that started it is no longer its parent)",
    };
}

/// <summary>
/// Starts engines as detached processes and signals and reaps them, on Linux and macOS, with
/// <c>posix_spawn</c>, <c>kill</c> and <c>waitpid</c>.
/// </summary>
/// <remarks>
/// Why not <see cref="System.Diagnostics.Process"/> or CliWrap: both connect the child's stdout and stderr to
/// pipes the manager reads and keep the child in the manager's process group. An engine must outlive the
/// manager (a restart, a crash, Ctrl-C in its terminal): with pipes, its writes fail with EPIPE once the
/// manager is gone (Python's HTTP servers then fail the request whose log line they were writing), and a
/// terminal's SIGINT reaches the whole foreground group. So the engine gets a session of its own
/// (<c>POSIX_SPAWN_SETSID</c>), stdin from <c>/dev/null</c>, stdout and stderr on a file the manager tails,
/// default signal dispositions and an empty signal mask (the .NET runtime ignores SIGPIPE, which a child
/// would otherwise inherit).
/// </remarks>
public static class PosixProcesses
{
    public const int SigTerm = 15;
    public const int SigKill = 9;

    /// <summary>True where this implementation works (Linux, macOS).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();

    /// <summary>Starts <paramref name="launch"/> in a new session and returns its process id.</summary>
    /// <exception cref="Win32Exception">posix_spawn failed (e.g. ENOENT, EACCES, ENOEXEC): the message names the cause.</exception>
    public static int Spawn(DetachedLaunch launch)
    {
        ArgumentNullException.ThrowIfNull(launch);
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("Engines can be started on Linux and macOS only.");
        }

        using var input = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read);
        var inputFd = (int)input.DangerousGetHandle();

        // Opaque libc structures: 1 KiB is more than any libc needs (glibc: 80/336 bytes, macOS: a pointer).
        var fileActions = Marshal.AllocHGlobal(1024);
        var attributes = Marshal.AllocHGlobal(1024);
        var signalsToDefault = Marshal.AllocHGlobal(256);
        var emptyMask = Marshal.AllocHGlobal(256);
        var strings = new List<IntPtr>();
        IntPtr argv = IntPtr.Zero, envp = IntPtr.Zero;
        var fileActionsReady = false;
        var attributesReady = false;
        try
        {
            Check(Libc.posix_spawn_file_actions_init(fileActions), "posix_spawn_file_actions_init");
            fileActionsReady = true;
            Check(Libc.posix_spawn_file_actions_adddup2(fileActions, inputFd, 0), "posix_spawn_file_actions_adddup2");
            // O_APPEND (which .NET's FileMode.Append does not set): every write lands at the file's end, so the manager can
            // empty the file in place to rotate it without leaving the engine writing at its old offset.
            var output = Utf8(launch.OutputPath, strings);
            Check(Libc.posix_spawn_file_actions_addopen(fileActions, 1, output, AppendFlags(), OutputMode), "posix_spawn_file_actions_addopen");
            Check(Libc.posix_spawn_file_actions_adddup2(fileActions, 1, 2), "posix_spawn_file_actions_adddup2");
            var directory = Utf8(launch.WorkingDirectory, strings);
            Check(Libc.posix_spawn_file_actions_addchdir_np(fileActions, directory), "posix_spawn_file_actions_addchdir_np");

            Check(Libc.posix_spawnattr_init(attributes), "posix_spawnattr_init");
            attributesReady = true;
            Libc.sigemptyset(emptyMask);
            Libc.sigfillset(signalsToDefault);
            Libc.sigdelset(signalsToDefault, SigKill);
            Libc.sigdelset(signalsToDefault, OperatingSystem.IsMacOS() ? 17 : 19); // SIGSTOP: neither can be caught
            Check(Libc.posix_spawnattr_setsigmask(attributes, emptyMask), "posix_spawnattr_setsigmask");
            Check(Libc.posix_spawnattr_setsigdefault(attributes, signalsToDefault), "posix_spawnattr_setsigdefault");
            Check(Libc.posix_spawnattr_setflags(attributes, SpawnFlags()), "posix_spawnattr_setflags");

            argv = StringArray([launch.Executable, .. launch.Arguments], strings);
            envp = StringArray(launch.Environment.Select(e => e.Key + "=" + e.Value), strings);
            var path = Utf8(launch.Executable, strings);
            var error = Libc.posix_spawn(out var pid, path, fileActions, attributes, argv, envp);
            if (error != 0)
            {
                throw new Win32Exception(error, $"Could not start {launch.Executable}: {new Win32Exception(error).Message}.");
            }

            return pid;
        }
        finally
        {
            if (fileActionsReady)
            {
                Libc.posix_spawn_file_actions_destroy(fileActions);
            }

            if (attributesReady)
            {
                Libc.posix_spawnattr_destroy(attributes);
            }

            Marshal.FreeHGlobal(fileActions);
            Marshal.FreeHGlobal(attributes);
            Marshal.FreeHGlobal(signalsToDefault);
            Marshal.FreeHGlobal(emptyMask);
            if (argv != IntPtr.Zero)
            {
                Marshal.FreeHGlobal(argv);
            }

            if (envp != IntPtr.Zero)
            {
                Marshal.FreeHGlobal(envp);
            }

            strings.ForEach(Marshal.FreeCoTaskMem);
        }
    }

    /// <summary>
    /// Reaps <paramref name="pid"/> if it has ended (<c>waitpid</c> with <c>WNOHANG</c>). Null while it runs;
    /// <see cref="ProcessExit.Unknown"/> when it is not a child of this process (so it cannot be waited for).
    /// </summary>
    public static ProcessExit? TryReap(int pid, out bool isChild)
    {
        isChild = true;
        while (true)
        {
            var result = Libc.waitpid(pid, out var status, WNoHang);
            if (result == pid)
            {
                var signal = status & 0x7f;
                return signal == 0 ? new ProcessExit((status >> 8) & 0xff, null) : new ProcessExit(null, signal);
            }

            if (result == 0)
            {
                return null;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == EIntr)
            {
                continue;
            }

            isChild = false; // ECHILD: not ours to wait for
            return null;
        }
    }

    /// <summary>Sends <paramref name="signal"/> to one process. False when it no longer exists.</summary>
    public static bool Signal(int pid, int signal) => pid > 0 && Libc.kill(pid, signal) == 0;

    /// <summary>Sends <paramref name="signal"/> to a whole process group (the engine's session leader's group).</summary>
    public static bool SignalGroup(int processGroup, int signal) => processGroup > 1 && Libc.kill(-processGroup, signal) == 0;

    /// <summary>"SIGKILL", "SIGTERM", … for the signals engines die of; "signal N" otherwise.</summary>
    public static string SignalName(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        7 when OperatingSystem.IsLinux() => "SIGBUS",
        10 when OperatingSystem.IsMacOS() => "SIGBUS",
        _ => $"signal {signal}",
    };

    private const int WNoHang = 1;
    private const int EIntr = 4;

    // POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID (| POSIX_SPAWN_CLOEXEC_DEFAULT on macOS,
    // so nothing but stdin/stdout/stderr is inherited; on Linux .NET opens every descriptor close-on-exec).
    private static short SpawnFlags() => OperatingSystem.IsMacOS()
        ? (short)(0x04 | 0x08 | 0x0400 | 0x4000)
        : (short)(0x04 | 0x08 | 0x80);

    // rw-r--r--: like a file the manager creates.
    private const int OutputMode = 420;

    // O_WRONLY | O_CREAT | O_APPEND.
    private static int AppendFlags() => OperatingSystem.IsMacOS() ? 0x1 | 0x200 | 0x8 : 0x1 | 0x40 | 0x400;

    private static void Check(int error, string call)
    {
        if (error != 0)
        {
            throw new Win32Exception(error, $"{call} failed: {new Win32Exception(error).Message}.");
        }
    }

    private static IntPtr Utf8(string value, List<IntPtr> owned)
    {
        var pointer = Marshal.StringToCoTaskMemUTF8(value);
        owned.Add(pointer);
        return pointer;
    }

    private static IntPtr StringArray(IEnumerable<string> values, List<IntPtr> owned)
    {
        var list = values.ToList();
        var array = Marshal.AllocHGlobal(IntPtr.Size * (list.Count + 1));
        for (var i = 0; i < list.Count; i++)
        {
            Marshal.WriteIntPtr(array, i * IntPtr.Size, Utf8(list[i], owned));
        }

        Marshal.WriteIntPtr(array, list.Count * IntPtr.Size, IntPtr.Zero);
        return array;
    }

    private static class Libc
    {
        [DllImport("libc")]
        public static extern int posix_spawn(out int pid, IntPtr path, IntPtr fileActions, IntPtr attributes, IntPtr argv, IntPtr envp);

        [DllImport("libc")]
        public static extern int posix_spawn_file_actions_init(IntPtr fileActions);

        [DllImport("libc")]
        public static extern int posix_spawn_file_actions_destroy(IntPtr fileActions);

        [DllImport("libc")]
        public static extern int posix_spawn_file_actions_adddup2(IntPtr fileActions, int fd, int newFd);

        [DllImport("libc")]
        public static extern int posix_spawn_file_actions_addopen(IntPtr fileActions, int fd, IntPtr path, int flags, int mode);

        [DllImport("libc")]
        public static extern int posix_spawn_file_actions_addchdir_np(IntPtr fileActions, IntPtr path);

        [DllImport("libc")]
        public static extern int posix_spawnattr_init(IntPtr attributes);

        [DllImport("libc")]
        public static extern int posix_spawnattr_destroy(IntPtr attributes);

        [DllImport("libc")]
        public static extern int posix_spawnattr_setflags(IntPtr attributes, short flags);

        [DllImport("libc")]
        public static extern int posix_spawnattr_setsigmask(IntPtr attributes, IntPtr mask);

        [DllImport("libc")]
        public static extern int posix_spawnattr_setsigdefault(IntPtr attributes, IntPtr signals);

        [DllImport("libc")]
        public static extern int sigemptyset(IntPtr set);

        [DllImport("libc")]
        public static extern int sigfillset(IntPtr set);

        [DllImport("libc")]
        public static extern int sigdelset(IntPtr set, int signal);

        [DllImport("libc", SetLastError = true)]
        public static extern int waitpid(int pid, out int status, int options);

        [DllImport("libc", SetLastError = true)]
        public static extern int kill(int pid, int signal);
    }
}
