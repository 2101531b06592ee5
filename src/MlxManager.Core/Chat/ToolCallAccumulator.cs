using System.Text;
using System.Text.Json;

namespace MlxManager.Core.Chat;

/// <summary>
/// Joins streamed <c>delta.tool_calls[]</c> entries into complete calls. Handles both shapes engines use:
/// whole calls (mlx_lm.server: id, index, name and the full arguments in one entry) and OpenAI-style fragments
/// (id and name first, arguments in pieces, later pieces carrying only the <c>index</c>).
/// </summary>
public sealed class ToolCallAccumulator
{
    private readonly List<Slot> _slots = [];
    private readonly Dictionary<int, Slot> _byIndex = [];
    private readonly Func<string> _newId;

    /// <summary>Creates an accumulator; <paramref name="newId"/> makes ids for calls the engine sent without one.</summary>
    public ToolCallAccumulator(Func<string>? newId = null)
    {
        _newId = newId ?? (() => "call_" + Guid.NewGuid().ToString("N")[..24]);
    }

    /// <summary>True once any tool call fragment has arrived.</summary>
    public bool HasCalls => _slots.Count > 0;

    /// <summary>Adds the entries of one <c>tool_calls</c> array; announces each call once its name is known.</summary>
    public void Add(JsonElement toolCalls, List<ChatStreamEvent> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (toolCalls.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var position = 0;
        foreach (var entry in toolCalls.EnumerateArray())
        {
            if (entry.ValueKind == JsonValueKind.Object)
            {
                AddEntry(entry, position, output);
            }

            position++;
        }
    }

    /// <summary>The calls so far, complete, in the order the engine numbered them.</summary>
    public IReadOnlyList<ToolCall> Complete()
    {
        var calls = new List<ToolCall>(_slots.Count);
        foreach (var slot in _slots)
        {
            slot.Id ??= _newId();
            calls.Add(new ToolCall(slot.Id, slot.Name.ToString(), slot.Arguments.ToString()));
        }

        return calls;
    }

    private void AddEntry(JsonElement entry, int position, List<ChatStreamEvent> output)
    {
        var id = ReadString(entry, "id") is { Length: > 0 } sent ? sent : null; // some servers send "" on later fragments
        int? index = entry.TryGetProperty("index", out var indexElement) && indexElement.TryGetInt32(out var i) ? i : null;

        var slot = FindSlot(index, id, position);
        if (slot is null || (id is not null && slot.Id is not null && slot.Id != id))
        {
            // A new call, or an engine that reuses an index for a different call (told apart by its id).
            slot = new Slot(index ?? _slots.Count);
            _slots.Add(slot);
            _byIndex[slot.EngineIndex] = slot;
        }

        slot.Id ??= id;
        if (!entry.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var name = ReadString(function, "name");
        if (!string.IsNullOrEmpty(name))
        {
            var current = slot.Name.ToString();
            if (current.Length == 0)
            {
                slot.Name.Append(name);
            }
            else if (current != name && id is null)
            {
                slot.Name.Append(name); // a name streamed in pieces
            }
        }

        if (function.TryGetProperty("arguments", out var arguments))
        {
            switch (arguments.ValueKind)
            {
                case JsonValueKind.String:
                    slot.Arguments.Append(arguments.GetString());
                    break;
                case JsonValueKind.Object or JsonValueKind.Array:
                    slot.Arguments.Append(arguments.GetRawText()); // some servers send the object itself
                    break;
            }
        }

        if (!slot.Announced && slot.Name.Length > 0)
        {
            slot.Announced = true;
            output.Add(new ToolCallStreaming(_slots.IndexOf(slot), slot.Name.ToString()));
        }
    }

    private Slot? FindSlot(int? index, string? id, int position)
    {
        if (index is { } known)
        {
            return _byIndex.GetValueOrDefault(known);
        }

        if (id is not null)
        {
            return _slots.Find(s => s.Id == id);
        }

        // No index and no id: a continuation of the call at the same array position, else of the last call.
        return _byIndex.GetValueOrDefault(position) ?? (_slots.Count > 0 ? _slots[^1] : null);
    }

    private static string? ReadString(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private sealed class Slot(int engineIndex)
    {
        public int EngineIndex { get; } = engineIndex;
        public string? Id { get; set; }
        public StringBuilder Name { get; } = new();
        public StringBuilder Arguments { get; } = new();
        public bool Announced { get; set; }
    }
}
