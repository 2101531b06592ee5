using System.Diagnostics;
using System.Threading.Channels;

namespace MlxManager.EngineEmulator.Generation;

/// <summary>Where the busy work of a generation step runs: this process, or a handler child process.</summary>
public interface IComputeDevice
{
    /// <summary>Keeps one CPU core busy for <paramref name="duration"/>.</summary>
    void Spin(TimeSpan duration);
}

/// <summary>Spins a core of this process.</summary>
public sealed class LocalComputeDevice : IComputeDevice
{
    public static LocalComputeDevice Instance { get; } = new();

    double sink = 1;

    public void Spin(TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        double x = sink;
        while (clock.Elapsed < duration)
        {
            for (int i = 1; i < 2000; i++) x = Math.Sqrt(x + i) * 1.0000001;
        }
        sink = x;
    }
}

/// <summary>One request's place in the loop: its prompt processing, then one token per step.</summary>
public sealed class GenerationSlot
{
    internal GenerationSlot(IReadOnlyList<int> checkpoints, int promptTokens)
    {
        this.checkpoints = checkpoints;
        PromptTokens = promptTokens;
    }

    readonly IReadOnlyList<int> checkpoints;
    internal int NextCheckpoint;
    internal double Processed;
    internal double TokenCredit;
    internal readonly SemaphoreSlim Tokens = new(0);
    internal volatile bool Released;

    /// <summary>Prompt tokens still to process (the part not found in the prompt cache).</summary>
    public int PromptTokens { get; }

    /// <summary>Prefill progress <c>(done, total)</c> as mlx_lm reports it; completes when the first token is ready.</summary>
    public Channel<(int Done, int Total)> Progress { get; } = Channel.CreateUnbounded<(int, int)>();

    internal IReadOnlyList<int> Checkpoints => checkpoints;

    /// <summary>Waits for the next generation step.</summary>
    public Task NextTokenAsync(CancellationToken cancellationToken) => Tokens.WaitAsync(cancellationToken);
}

/// <summary>The emulated GPU: one thread that steps every active request at the token rate, spinning a CPU
/// core for each step, like a continuous batch. Prompt processing advances at the prefill rate and reports
/// the checkpoints mlx_lm's progress callback reports (<c>0/T</c>, each prefill step, <c>T/T</c> with the first token).
/// Idle when no request is active.</summary>
public sealed class ComputeLoop : IDisposable
{
    /// <summary>At most this many tokens per slot in one pass (a pass stretched by a busy machine).</summary>
    const int MaxTokensPerPass = 8;

    readonly List<GenerationSlot> active = [];
    readonly Lock gate = new();
    readonly AutoResetEvent wake = new(false);
    readonly Thread? thread;
    readonly double tokensPerSecond;
    readonly double prefillPerSecond;
    volatile bool stopping;

    public IComputeDevice Device { get; set; }

    public ComputeLoop(double tokensPerSecond, double prefillPerSecond, IComputeDevice? device = null)
        : this(tokensPerSecond, prefillPerSecond, device, runThread: true)
    {
    }

    ComputeLoop(double tokensPerSecond, double prefillPerSecond, IComputeDevice? device, bool runThread)
    {
        this.tokensPerSecond = tokensPerSecond;
        this.prefillPerSecond = prefillPerSecond;
        Device = device ?? LocalComputeDevice.Instance;
        if (runThread)
        {
            thread = new Thread(Run) { IsBackground = true, Name = "generation" };
            thread.Start();
        }
    }

    /// <summary>A loop without its thread, advanced only by <see cref="Step"/>: the clock is the caller's.</summary>
    internal static ComputeLoop Stepped(double tokensPerSecond, double prefillPerSecond) =>
        new(tokensPerSecond, prefillPerSecond, null, runThread: false);

    /// <summary>mlx_lm's prefill checkpoints for a prompt of <paramref name="total"/> tokens and a step size.</summary>
    public static List<int> PrefillCheckpoints(int total, int stepSize)
    {
        var points = new List<int> { 0 };
        int processed = 0;
        while (total - processed > 1)
        {
            processed += Math.Min(stepSize, total - processed - 1);
            points.Add(processed);
        }
        points.Add(total);
        return points;
    }

    public GenerationSlot Begin(int promptTokens, int prefillStepSize)
    {
        var slot = new GenerationSlot(PrefillCheckpoints(Math.Max(1, promptTokens), prefillStepSize), Math.Max(1, promptTokens));
        lock (gate) active.Add(slot);
        wake.Set();
        return slot;
    }

    public void End(GenerationSlot slot)
    {
        slot.Released = true;
        lock (gate) active.Remove(slot);
        slot.Progress.Writer.TryComplete();
    }

    /// <summary>Each pass spins for one token interval, then credits every slot with the time that really
    /// passed (a busy machine makes passes longer; the rates still hold on average).</summary>
    void Run()
    {
        var tick = TimeSpan.FromSeconds(1 / tokensPerSecond);
        var clock = Stopwatch.StartNew();
        var last = clock.Elapsed;
        while (!stopping)
        {
            bool idle;
            lock (gate) idle = active.Count == 0;
            if (idle)
            {
                wake.WaitOne(TimeSpan.FromMilliseconds(200));
                last = clock.Elapsed;
                continue;
            }
            Device.Spin(tick);
            var now = clock.Elapsed;
            Step(now - last);
            last = now;
        }
    }

    /// <summary>
    /// One pass: prompt processing advances by <paramref name="elapsed"/> at the prefill rate; a generating slot earns
    /// tokens at the token rate, but only while its reader has taken every token it was given. mlx_lm generates and
    /// writes in one thread, so it never runs ahead of its reader: a pass that ends with a token still untaken
    /// earns that slot nothing (else the tokens pile up and a late reader gets them all at once).
    /// </summary>
    internal void Step(TimeSpan elapsed)
    {
        GenerationSlot[] slots;
        lock (gate) slots = [.. active];
        var seconds = Math.Min(elapsed.TotalSeconds, 0.5);
        foreach (var slot in slots)
        {
            if (slot.Released) continue;
            if (!slot.Progress.Reader.Completion.IsCompleted && slot.NextCheckpoint < slot.Checkpoints.Count)
            {
                AdvancePrefill(slot, seconds);
                continue;
            }
            if (slot.Tokens.CurrentCount > 0)
            {
                slot.TokenCredit = 0;
                continue;
            }
            slot.TokenCredit += seconds * tokensPerSecond;
            var due = (int)Math.Min(Math.Floor(slot.TokenCredit), MaxTokensPerPass);
            if (due <= 0) continue;
            slot.TokenCredit -= due;
            slot.Tokens.Release(due);
        }
    }

    void AdvancePrefill(GenerationSlot slot, double elapsedSeconds)
    {
        var total = slot.PromptTokens;
        slot.Processed += prefillPerSecond * elapsedSeconds;
        // The first checkpoint (0/T) is reported as soon as processing starts; T/T comes with the first token.
        while (slot.NextCheckpoint < slot.Checkpoints.Count - 1 && (slot.NextCheckpoint == 0 || slot.Checkpoints[slot.NextCheckpoint] <= slot.Processed))
            slot.Progress.Writer.TryWrite((slot.Checkpoints[slot.NextCheckpoint++], total));
        if (slot.NextCheckpoint == slot.Checkpoints.Count - 1 && slot.Processed >= total)
        {
            slot.Progress.Writer.TryWrite((total, total));
            slot.NextCheckpoint++;
            slot.Progress.Writer.TryComplete();
        }
    }

    public void Dispose()
    {
        stopping = true;
        wake.Set();
        thread?.Join(TimeSpan.FromSeconds(2));
        wake.Dispose();
    }
}
