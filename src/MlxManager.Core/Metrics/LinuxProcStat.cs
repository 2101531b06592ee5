using System.Buffers.Text;

namespace MlxManager.Core.Metrics;

/// <summary>The fields of one <c>/proc/&lt;pid&gt;/stat</c> line that the sampler needs.</summary>
/// <param name="Pid">Field 1.</param>
/// <param name="State">Field 3: R, S, D, Z (zombie), X (dead), …</param>
/// <param name="ParentPid">Field 4.</param>
/// <param name="UserTicks">Field 14, utime, in clock ticks.</param>
/// <param name="SystemTicks">Field 15, stime, in clock ticks.</param>
/// <param name="StartTicks">Field 22, starttime, clock ticks after boot.</param>
/// <param name="RssPages">Field 24, resident set size in pages (the same counter as <c>statm</c>'s resident).</param>
internal readonly record struct LinuxProcStat(int Pid, char State, int ParentPid, long UserTicks, long SystemTicks, long StartTicks, long RssPages)
{
    public bool IsGone => State is 'Z' or 'X' or 'x';

    /// <summary>
    /// Parses a stat line. The command name (field 2) may hold spaces and parentheses, so fields are counted
    /// from the last ')'.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out LinuxProcStat stat)
    {
        stat = default;
        var open = line.IndexOf((byte)'(');
        var close = line.LastIndexOf((byte)')');
        if (open <= 0 || close < open || !Utf8Parser.TryParse(line[..open].TrimEnd((byte)' '), out int pid, out _))
        {
            return false;
        }

        // Fields after the command name, counted from 0: 0 state, 1 ppid, 11 utime, 12 stime, 19 starttime, 21 rss.
        var rest = line[(close + 1)..];
        char state = default;
        long ppid = 0, utime = 0, stime = 0, start = 0, rss = 0;
        var index = 0;
        while (index <= 21)
        {
            rest = rest.TrimStart((byte)' ');
            if (rest.IsEmpty)
            {
                return false;
            }

            var end = rest.IndexOf((byte)' ');
            var field = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[end..];
            switch (index)
            {
                case 0:
                    state = (char)field[0];
                    break;
                case 1 when !Utf8Parser.TryParse(field, out ppid, out _):
                case 11 when !Utf8Parser.TryParse(field, out utime, out _):
                case 12 when !Utf8Parser.TryParse(field, out stime, out _):
                case 19 when !Utf8Parser.TryParse(field, out start, out _):
                case 21 when !Utf8Parser.TryParse(field, out rss, out _):
                    return false;
            }

            index++;
        }

        stat = new LinuxProcStat(pid, state, (int)ppid, utime, stime, start, rss);
        return true;
    }
}
