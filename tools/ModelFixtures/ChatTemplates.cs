namespace MlxManager.ModelFixtures;

/// <summary>Jinja chat templates in the style of real families. Engines and detection look at what a
/// template renders (the <c>tools</c> variable, <c>enable_thinking</c>, <c>&lt;think&gt;</c>), so these
/// use the same constructs real templates use.</summary>
public static class ChatTemplates
{
    public static string? For(TemplateKind kind) => kind switch
    {
        TemplateKind.None => null,
        TemplateKind.Plain => ChatMl,
        TemplateKind.LlamaTools => LlamaTools,
        TemplateKind.QwenThinkingTools => QwenThinkingTools,
        TemplateKind.DeepSeekR1 => DeepSeekR1,
        TemplateKind.Gemma => Gemma,
        TemplateKind.QwenVision => QwenVision,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    // The word "tools" appears in the prose of this one on purpose: only rendering the variable counts.
    public const string ChatMl = """
        {#- A plain ChatML template: no tools are rendered here, so this model cannot call them. -#}
        {%- for message in messages %}
            {{- '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}
        {%- endfor %}
        {%- if add_generation_prompt %}
            {{- '<|im_start|>assistant\n' }}
        {%- endif %}
        """;

    public const string LlamaTools = """
        {{- bos_token }}
        {%- if custom_tools is defined %}
            {%- set tools = custom_tools %}
        {%- endif %}
        {%- if not tools_in_user_message is defined %}
            {%- set tools_in_user_message = true %}
        {%- endif %}
        {%- if not date_string is defined %}
            {%- set date_string = "26 Jul 2024" %}
        {%- endif %}
        {%- if not tools is defined %}
            {%- set tools = none %}
        {%- endif %}
        {%- if messages[0]['role'] == 'system' %}
            {%- set system_message = messages[0]['content']|trim %}
            {%- set messages = messages[1:] %}
        {%- else %}
            {%- set system_message = "" %}
        {%- endif %}
        {{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
        {%- if tools is not none %}
            {{- "Environment: ipython\n" }}
        {%- endif %}
        {{- "Cutting Knowledge Date: December 2023\n" }}
        {{- "Today Date: " + date_string + "\n\n" }}
        {{- system_message }}
        {{- "<|eot_id|>" }}
        {%- if tools_in_user_message and not tools is none %}
            {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
            {{- "Given the following functions, please respond with a JSON for a function call " }}
            {{- "with its proper arguments that best answers the given prompt.\n\n" }}
            {%- for t in tools %}
                {{- t | tojson(indent=4) }}
                {{- "\n\n" }}
            {%- endfor %}
        {%- endif %}
        {%- for message in messages %}
            {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
                {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
            {%- elif 'tool_calls' in message %}
                {%- set tool_call = message.tool_calls[0].function %}
                {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
                {{- '{"name": "' + tool_call.name + '", ' }}
                {{- '"parameters": ' }}
                {{- tool_call.arguments | tojson }}
                {{- "}" }}
                {{- "<|eot_id|>" }}
            {%- elif message.role == "tool" or message.role == "ipython" %}
                {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
                {{- message.content | tojson }}
                {{- "<|eot_id|>" }}
            {%- endif %}
        {%- endfor %}
        {%- if add_generation_prompt %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
        {%- endif %}
        """;

    public const string QwenThinkingTools = """
        {%- if tools %}
            {{- '<|im_start|>system\n' }}
            {%- if messages[0].role == 'system' %}
                {{- messages[0].content + '\n\n' }}
            {%- endif %}
            {{- "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n<tools>" }}
            {%- for tool in tools %}
                {{- "\n" }}
                {{- tool | tojson }}
            {%- endfor %}
            {{- "\n</tools>\n\nFor each function call, return a json object within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
        {%- elif messages[0].role == 'system' %}
            {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
        {%- endif %}
        {%- for message in messages %}
            {%- if message.role == "user" or (message.role == "system" and not loop.first) %}
                {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' }}
            {%- elif message.role == "assistant" %}
                {%- set content = message.content %}
                {%- if '</think>' in content %}
                    {%- set content = content.split('</think>')[-1].lstrip('\n') %}
                {%- endif %}
                {{- '<|im_start|>assistant\n' + content }}
                {%- if message.tool_calls %}
                    {%- for tool_call in message.tool_calls %}
                        {{- '\n<tool_call>\n{"name": "' + tool_call.function.name + '", "arguments": ' + (tool_call.function.arguments | tojson) + '}\n</tool_call>' }}
                    {%- endfor %}
                {%- endif %}
                {{- '<|im_end|>\n' }}
            {%- elif message.role == "tool" %}
                {{- '<|im_start|>user\n<tool_response>\n' + message.content + '\n</tool_response><|im_end|>\n' }}
            {%- endif %}
        {%- endfor %}
        {%- if add_generation_prompt %}
            {{- '<|im_start|>assistant\n' }}
            {%- if enable_thinking is defined and enable_thinking is false %}
                {{- '<think>\n\n</think>\n\n' }}
            {%- endif %}
        {%- endif %}
        """;

    public const string DeepSeekR1 = """
        {% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}
        {%- set ns = namespace(system_prompt='') -%}
        {%- for message in messages -%}
            {%- if message['role'] == 'system' -%}{%- set ns.system_prompt = message['content'] -%}{%- endif -%}
        {%- endfor -%}
        {{- bos_token + ns.system_prompt -}}
        {%- for message in messages -%}
            {%- if message['role'] == 'user' -%}
                {{- '<｜User｜>' + message['content'] -}}
            {%- elif message['role'] == 'assistant' -%}
                {%- set content = message['content'] -%}
                {%- if '</think>' in content -%}{%- set content = content.split('</think>')[-1] -%}{%- endif -%}
                {{- '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' -}}
            {%- endif -%}
        {%- endfor -%}
        {%- if add_generation_prompt -%}{{- '<｜Assistant｜><think>\n' -}}{%- endif -%}
        """;

    public const string Gemma = """
        {{ bos_token }}
        {%- if messages[0]['role'] == 'system' -%}
            {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
            {%- set loop_messages = messages[1:] -%}
        {%- else -%}
            {%- set first_user_prefix = "" -%}
            {%- set loop_messages = messages -%}
        {%- endif -%}
        {%- for message in loop_messages -%}
            {%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}
            {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
            {%- if message['content'] is string -%}
                {{ message['content'] | trim }}
            {%- else -%}
                {%- for item in message['content'] -%}
                    {%- if item['type'] == 'image' -%}{{ '<start_of_image>' }}
                    {%- elif item['type'] == 'text' -%}{{ item['text'] | trim }}{%- endif -%}
                {%- endfor -%}
            {%- endif -%}
            {{ '<end_of_turn>\n' }}
        {%- endfor -%}
        {%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}
        """;

    public const string QwenVision = """
        {% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}
        {%- if tools %}
            {{- '<|im_start|>system\n' }}
            {%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}{%- else %}{{- 'You are a helpful assistant.' }}{%- endif %}
            {{- "\n\n# Tools\n\n<tools>" }}
            {%- for tool in tools %}{{- "\n" }}{{- tool | tojson }}{%- endfor %}
            {{- "\n</tools><|im_end|>\n" }}
        {%- endif %}
        {%- for message in messages %}
            {{- '<|im_start|>' + message['role'] + '\n' }}
            {%- if message['content'] is string %}{{- message['content'] }}{%- else %}
                {%- for content in message['content'] %}
                    {%- if content['type'] == 'image' or 'image' in content or 'image_url' in content %}
                        {%- set image_count.value = image_count.value + 1 %}<|vision_start|><|image_pad|><|vision_end|>
                    {%- elif content['type'] == 'video' or 'video' in content %}
                        {%- set video_count.value = video_count.value + 1 %}<|vision_start|><|video_pad|><|vision_end|>
                    {%- elif 'text' in content %}{{- content['text'] }}{%- endif %}
                {%- endfor %}
            {%- endif %}
            {{- '<|im_end|>\n' }}
        {%- endfor %}
        {%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}
        """;
}
