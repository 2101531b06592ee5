using MlxManager.Core.Chat;

namespace MlxManager.Core.Tests.Chat;

/// <summary>
/// Stream transcripts in the shapes each engine really sends (from engines.md and the engines' sources):
/// field order, empty strings, nulls, comment lines and line endings as those servers write them.
/// </summary>
internal static class SseTranscripts
{
    // mlx_lm.server: prefill keepalive comments, delta.reasoning (content "" alongside), whole tool calls with a
    // global index, finish chunk, then a usage chunk with empty choices, then [DONE]. LF line ends.
    public const string MlxLmThinkingAndWholeToolCalls =
        ": keepalive 512/2048\n\n" +
        ": keepalive 1024/2048\n\n" +
        ": keepalive 2048/2048\n\n" +
        """data: {"id": "chatcmpl-7e1", "system_fingerprint": "0.30.5-0.30.6-macOS-15.5-arm64-applegpu_g15s", "object": "chat.completion.chunk", "model": "mlx-community/Qwen3-4B-4bit", "created": 1767225600, "choices": [{"index": 0, "finish_reason": null, "delta": {"role": "assistant", "content": "", "reasoning": "The user wants the weather", "tool_calls": []}}]}""" + "\n\n" +
        """data: {"id": "chatcmpl-7e1", "system_fingerprint": "x", "object": "chat.completion.chunk", "model": "mlx-community/Qwen3-4B-4bit", "created": 1767225600, "choices": [{"index": 0, "finish_reason": null, "delta": {"role": "assistant", "content": "", "reasoning": " in Paris and a product.", "tool_calls": []}}]}""" + "\n\n" +
        """data: {"id": "chatcmpl-7e1", "system_fingerprint": "x", "object": "chat.completion.chunk", "model": "mlx-community/Qwen3-4B-4bit", "created": 1767225600, "choices": [{"index": 0, "finish_reason": null, "delta": {"role": "assistant", "content": "", "reasoning": "", "tool_calls": [{"function": {"name": "get_weather", "arguments": "{\"location\": \"Paris\", \"unit\": \"celsius\"}"}, "type": "function", "id": "3f1c2a9e-0d7b-4a51-9a0e-1b2c3d4e5f60", "index": 0}]}}]}""" + "\n\n" +
        """data: {"id": "chatcmpl-7e1", "system_fingerprint": "x", "object": "chat.completion.chunk", "model": "mlx-community/Qwen3-4B-4bit", "created": 1767225600, "choices": [{"index": 0, "finish_reason": null, "delta": {"role": "assistant", "content": "", "reasoning": "", "tool_calls": [{"function": {"name": "calculate", "arguments": "{\"expression\": \"17 * 23\"}"}, "type": "function", "id": "9b8a7c6d-5e4f-4321-8fed-cba987654321", "index": 1}]}}]}""" + "\n\n" +
        """data: {"id": "chatcmpl-7e1", "system_fingerprint": "x", "object": "chat.completion.chunk", "model": "mlx-community/Qwen3-4B-4bit", "created": 1767225600, "choices": [{"index": 0, "finish_reason": "tool_calls", "delta": {"role": "assistant", "content": "", "reasoning": "", "tool_calls": []}}]}""" + "\n\n" +
        """data: {"id": "chatcmpl-7e1", "system_fingerprint": "x", "object": "chat.completion", "model": "mlx-community/Qwen3-4B-4bit", "created": 1767225600, "choices": [], "usage": {"prompt_tokens": 2048, "completion_tokens": 61, "total_tokens": 2109, "prompt_tokens_details": {"cached_tokens": 1024}}}""" + "\n\n" +
        "data: [DONE]\n\n";

    // mlx_vlm.server: reasoning_content plus the deprecated alias reasoning carrying the same text, timings on
    // chunks, final timings with peak memory, usage on the finish chunk.
    public const string MlxVlmReasoningContentWithTimings =
        """data: {"id":"chatcmpl-vlm1","object":"chat.completion.chunk","created":1767225600,"model":"mlx-community/Qwen3-VL-4B-Instruct-4bit","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"The image shows","reasoning":"The image shows"},"finish_reason":null}],"timings":{"predicted_per_second":38.2}}""" + "\n\n" +
        """data: {"id":"chatcmpl-vlm1","object":"chat.completion.chunk","created":1767225600,"model":"mlx-community/Qwen3-VL-4B-Instruct-4bit","choices":[{"index":0,"delta":{"reasoning_content":" a red bicycle.","reasoning":" a red bicycle."},"finish_reason":null}],"timings":{"predicted_per_second":40.9}}""" + "\n\n" +
        """data: {"id":"chatcmpl-vlm1","object":"chat.completion.chunk","created":1767225600,"model":"mlx-community/Qwen3-VL-4B-Instruct-4bit","choices":[{"index":0,"delta":{"content":"It is a **red bicycle** "},"finish_reason":null}],"timings":{"predicted_per_second":41.3}}""" + "\n\n" +
        """data: {"id":"chatcmpl-vlm1","object":"chat.completion.chunk","created":1767225600,"model":"mlx-community/Qwen3-VL-4B-Instruct-4bit","choices":[{"index":0,"delta":{"content":"leaning on a wall. 🚲"},"finish_reason":null}],"timings":{"predicted_per_second":41.8}}""" + "\n\n" +
        """data: {"id":"chatcmpl-vlm1","object":"chat.completion.chunk","created":1767225600,"model":"mlx-community/Qwen3-VL-4B-Instruct-4bit","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":812,"completion_tokens":17,"total_tokens":829},"timings":{"prompt_n":812,"predicted_n":17,"prompt_per_second":950.25,"predicted_per_second":42.1,"peak_memory":3.21}}""" + "\n\n" +
        "data: [DONE]\n\n";

    // mlx-openai-server (FastAPI + SSE, CRLF line ends): reasoning_content, then OpenAI-style fragmented tool
    // calls: id and name first, the arguments in pieces that carry only the index.
    public const string MlxOpenAiServerFragmentedToolCalls =
        "data: {\"id\":\"chatcmpl-os1\",\"object\":\"chat.completion.chunk\",\"created\":1767225600,\"model\":\"local\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"reasoning_content\":\"I need the weather \"},\"finish_reason\":null}]}\r\n\r\n" +
        "data: {\"id\":\"chatcmpl-os1\",\"object\":\"chat.completion.chunk\",\"created\":1767225600,\"model\":\"local\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"and a calculation.\"},\"finish_reason\":null}]}\r\n\r\n" +
        "data: {\"id\":\"chatcmpl-os1\",\"object\":\"chat.completion.chunk\",\"created\":1767225600,\"model\":\"local\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_a1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\r\n\r\n" +
        "data: {\"id\":\"chatcmpl-os1\",\"object\":\"chat.completion.chunk\",\"created\":1767225600,\"model\":\"local\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"location\\\": \"}}]},\"finish_reason\":null}]}\r\n\r\n" +
        "data: {\"id\":\"chatcmpl-os1\",\"object\":\"chat.completion.chunk\",\"created\":1767225600,\"model\":\"local\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Tokyo\\\", \\\"unit\\\": \\\"fahrenheit\\\"}\"}}]},\"finish_reason\":null}]}\r\n\r\n" +
        "data: {\"id\":\"chatcmpl-os1\",\"object\":\"chat.completion.chunk\",\"created\":1767225600,\"model\":\"local\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_b2\",\"type\":\"function\",\"function\":{\"name\":\"calculate\",\"arguments\":\"{\\\"expr\"}}]},\"finish_reason\":null}]}\r\n\r\n" +
        "data: {\"id\":\"chatcmpl-os1\",\"object\":\"chat.completion.chunk\",\"created\":1767225600,\"model\":\"local\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"ession\\\": \\\"2^10\\\"}\"}}]},\"finish_reason\":null}]}\r\n\r\n" +
        "data: {\"id\":\"chatcmpl-os1\",\"object\":\"chat.completion.chunk\",\"created\":1767225600,\"model\":\"local\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\r\n\r\n" +
        "data: {\"id\":\"chatcmpl-os1\",\"object\":\"chat.completion.chunk\",\"created\":1767225600,\"model\":\"local\",\"choices\":[],\"usage\":{\"prompt_tokens\":300,\"completion_tokens\":48,\"total_tokens\":348}}\r\n\r\n" +
        "data: [DONE]\r\n\r\n";

    // A server that leaves thinking inline in content: <think> split across chunks, text around the tags.
    public const string InlineThinkTagsSplitAcrossChunks =
        """data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"<thi"},"finish_reason":null}]}""" + "\n\n" +
        """data: {"choices":[{"index":0,"delta":{"content":"nk>\nCount the r's: s-t-r-a-w-b-e-r-r-y."},"finish_reason":null}]}""" + "\n\n" +
        """data: {"choices":[{"index":0,"delta":{"content":" Three.</th"},"finish_reason":null}]}""" + "\n\n" +
        """data: {"choices":[{"index":0,"delta":{"content":"ink>\n\nThere are **3** r's"},"finish_reason":null}]}""" + "\n\n" +
        """data: {"choices":[{"index":0,"delta":{"content":" in \"strawberry\"."},"finish_reason":"stop"}]}""" + "\n\n" +
        "data: [DONE]\n\n";

    public static IEnumerable<ChatStreamEvent> Parse(string transcript, ThinkingStart start = ThinkingStart.InAnswer)
    {
        var parser = new ChatStreamParser(start, newToolCallId: SequentialIds());
        var output = new List<ChatStreamEvent>();
        parser.Feed(System.Text.Encoding.UTF8.GetBytes(transcript), output);
        parser.Complete(output);
        return output;
    }

    public static Func<string> SequentialIds()
    {
        var n = 0;
        return () => $"call_generated_{n++}";
    }
}
