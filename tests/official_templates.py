"""Official chat templates the real tokenizers' files lack, as test data, and the
conversations the exactness tests render.

The Llama-2-chat and Mistral-7B-Instruct-v0.1 templates are the `chat_template` of
meta-llama/Llama-2-13b-chat-hf and mistralai/Mistral-7B-Instruct-v0.1 (their
tokenizer_config.json on the Hugging Face hub), as quoted with their expected renderings in
mistral.rs' chat-template test (mistralrs-core/src/pipeline/chat_template.rs,
`test_chat_templates`). CHATML is the canonical ChatML template quoted there too
(teknium/OpenHermes-2.5-Mistral-7B). The `\\n` inside the Jinja string literals are Jinja
escapes, as in the JSON files.
"""

from __future__ import annotations

LLAMA2_CHAT = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}"
    "{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}"
    "{{ ' '  + content.strip() + ' ' + eos_token }}"
    "{% endif %}{% endfor %}"
)

MISTRAL_V01 = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}"
    "{% endif %}{% endfor %}"
)

CHATML = (
    "{% for message in messages %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# Multi-turn chats with a system turn, accents, symbols and emoji (split over several
# byte-level tokens), an answer that also occurs in the question before it, and content
# with surrounding whitespace (which Llama-2 and Llama-3 strip).
CHATS: list[list[dict[str, str]]] = [
    [
        {"role": "system", "content": "You answer briefly."},
        {"role": "user", "content": "How hot is 100 °C, in lumière units? 🙂"},
        {"role": "assistant", "content": "Hot enough: 100 °C boils water. 🔥"},
        {"role": "user", "content": "And naïve café crème?"},
        {"role": "assistant", "content": "Warm, about 60 °C ☕"},
    ],
    [
        {"role": "system", "content": "Tu es un assistant francophone."},
        {"role": "user", "content": "Réponds juste « oui »."},
        {"role": "assistant", "content": "oui"},
        {"role": "user", "content": "東京はどこ？ 🗼"},
        {"role": "assistant", "content": "  Japon, sur l'île de Honshū. 🇯🇵  "},
    ],
    [
        {"role": "system", "content": "Be exact.\nUse digits."},
        {"role": "user", "content": "2 + 2 = ?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "Write it as a word, then as 👍🏽."},
        {"role": "assistant", "content": "four\n\n👍🏽 means yes."},
    ],
]


def merge_system(chat: list[dict[str, str]]) -> list[dict[str, str]]:
    """The chat for a template without a system role (Mistral v0.1): the system prompt in
    front of the first user message, a blank line between, as ftui's mistral template does."""
    if not chat or chat[0]["role"] != "system":
        return chat
    first, *rest = chat[1:]
    return [{"role": "user", "content": f"{chat[0]['content']}\n\n{first['content']}"}, *rest]
