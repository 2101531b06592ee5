using System.Globalization;
using System.Text;

namespace MlxManager.Core.Metrics;

/// <summary>One point of a server's history.</summary>
/// <param name="At">When it was sampled.</param>
/// <param name="CpuPercent">CPU % of the process tree (null when not yet known).</param>
/// <param name="MemoryBytes">Memory of the process tree.</param>
/// <param name="GpuPercent">System-wide GPU utilisation, null where the platform does not tell.</param>
public readonly record struct MetricsPoint(DateTimeOffset At, double? CpuPercent, long MemoryBytes, double? GpuPercent);

/// <summary>
/// A fixed-size ring of recent points for one server (5 minutes at the sampling interval by default), oldest
/// dropped first. Safe to add from the sampling loop while pages read it.
/// </summary>
public sealed class MetricsHistory
{
    private readonly MetricsPoint[] _points;
    private readonly Lock _lock = new();
    private int _start;
    private int _count;

    public MetricsHistory(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _points = new MetricsPoint[capacity];
    }

    /// <summary>Room for <paramref name="window"/> of points taken every <paramref name="interval"/>.</summary>
    public static MetricsHistory For(TimeSpan window, TimeSpan interval) =>
        new(Math.Max(1, (int)Math.Ceiling(window / interval)));

    public int Capacity => _points.Length;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>The newest point, or null when empty.</summary>
    public MetricsPoint? Latest
    {
        get
        {
            lock (_lock)
            {
                return _count == 0 ? null : _points[(_start + _count - 1) % _points.Length];
            }
        }
    }

    public void Add(MetricsPoint point)
    {
        lock (_lock)
        {
            if (_count < _points.Length)
            {
                _points[(_start + _count) % _points.Length] = point;
                _count++;
            }
            else
            {
                _points[_start] = point;
                _start = (_start + 1) % _points.Length;
            }
        }
    }

    /// <summary>Copies the points, oldest first, into <paramref name="destination"/>; returns how many were copied.</summary>
    public int CopyTo(Span<MetricsPoint> destination)
    {
        lock (_lock)
        {
            var n = Math.Min(_count, destination.Length);
            var skip = _count - n; // keep the newest when the destination is short
            for (var i = 0; i < n; i++)
            {
                destination[i] = _points[(_start + skip + i) % _points.Length];
            }

            return n;
        }
    }

    /// <summary>The points, oldest first.</summary>
    public MetricsPoint[] ToArray()
    {
        lock (_lock)
        {
            var copy = new MetricsPoint[_count];
            CopyTo(copy);
            return copy;
        }
    }

    /// <summary>
    /// SVG <c>polyline</c> points for one series, ready for a sparkline: the newest point at the right edge,
    /// one slot per <see cref="Capacity"/> so the line fills up from the right as history grows, values scaled
    /// so that <paramref name="max"/> touches the top. Missing values are skipped.
    /// </summary>
    public string ToSparkline(Func<MetricsPoint, double?> value, double max, double width, double height)
    {
        var points = ToArray();
        var builder = new StringBuilder(points.Length * 12);
        var step = Capacity > 1 ? width / (Capacity - 1) : 0;
        var offset = Capacity - points.Length;
        for (var i = 0; i < points.Length; i++)
        {
            if (value(points[i]) is not { } v || double.IsNaN(v))
            {
                continue;
            }

            var x = (offset + i) * step;
            var y = height - (max > 0 ? Math.Clamp(v / max, 0, 1) * height : 0);
            if (builder.Length > 0)
            {
                builder.Append(' ');
            }

            builder.Append(x.ToString("0.#", CultureInfo.InvariantCulture)).Append(',').Append(y.ToString("0.#", CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }
}
