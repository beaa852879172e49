"""Chat prompts: our `build_prompt` and `tokenize_with_modal` against the official `mm_infer`.

What this proves: for each of the 36 cases of golden/chat_prompts.json (the first-release and the
updated Mistral-7B-Instruct-v0.2 chat templates and the Qwen2 template; modal video, image and
text; model types with and without the system turn), rendering with the same chat template gives
the official conversation (`messages`), the official prompt string byte for byte, and the
official `input_ids` (the split on the modal token and the -201/-200 placeholder); where the
official template raised, ours raises the same jinja2 TemplateError.

The tokenizer is the golden's own stand-in, rebuilt here offline: a slow (Python) transformers
tokenizer where the special tokens have ids 0..k (golden `source.special_token_ids`) and every
other character c has id 1000 + ord(c). It is not a real vocabulary; it shows exactly which
characters reach the tokenizer and where the modal placeholder goes.

Golden data: tests/protocol/golden/chat_prompts.json, from running `videollama2.mm_infer` of
DAMO-NLP-SG/VideoLLaMA2 @ c0bb03a unchanged with a fake model (see golden/README.md).
"""

from __future__ import annotations

from typing import Any

import pytest
from jinja2.exceptions import TemplateError
from transformers import PreTrainedTokenizer

from harness.models.videollama2.conversation import build_prompt, tokenize_with_modal

from ._golden import assert_same_text, cases, golden

CHAT = cases("chat_prompts.json")
SPECIAL_IDS = golden("chat_prompts.json")["source"]["special_token_ids"]
CHAR_OFFSET = 1000


class CharTokenizer(PreTrainedTokenizer):
    """The golden generator's character-level tokenizer, and a recorder of the conversation
    handed to apply_chat_template (the official `messages`)."""

    def __init__(self, special_ids: dict[str, int], **kwargs: Any):
        self._special = dict(special_ids)
        self._by_id = {v: k for k, v in self._special.items()}
        self.conversations: list[Any] = []
        super().__init__(**kwargs)

    @property
    def vocab_size(self) -> int:
        return CHAR_OFFSET + 0x110000

    def get_vocab(self) -> dict[str, int]:
        return dict(self._special)

    def _tokenize(self, text: str, **kwargs: Any) -> list[str]:
        return list(text)

    def _convert_token_to_id(self, token: str) -> int:
        return self._special[token] if token in self._special else CHAR_OFFSET + ord(token)

    def _convert_id_to_token(self, index: int) -> str:
        return self._by_id.get(index) or chr(index - CHAR_OFFSET)

    def apply_chat_template(self, conversation: Any, *args: Any, **kwargs: Any) -> Any:
        self.conversations.append(conversation)
        return super().apply_chat_template(conversation, *args, **kwargs)


def make_tokenizer(case: dict[str, Any]) -> CharTokenizer:
    ids = SPECIAL_IDS[case["template_id"]]
    named = {k: case[k] for k in ("bos_token", "eos_token", "unk_token") if case.get(k)}
    extra = [t for t in ids if t not in named.values() and t != case.get("pad_token_after_model_init")]
    tok = CharTokenizer(ids, **named, pad_token=case["pad_token_after_model_init"])
    if extra:  # <|im_start|>: a special token of the Qwen2 vocabulary, matched as one token
        tok.add_special_tokens({"additional_special_tokens": extra})
    tok.chat_template = case["chat_template"]
    # the stand-in must itself be the golden's: same ids for its special tokens
    assert {t: tok.convert_tokens_to_ids(t) for t in ids} == ids
    return tok


def _case_id(i: int) -> str:
    c = CHAT[i]
    return f"{i:02d}-{c['template_id']}-{c['model_type']}-{c['modal']}-{c['instruction_from'].split('.json')[0]}"


IDS = [_case_id(i) for i in range(len(CHAT))]


@pytest.mark.parametrize("i", range(len(CHAT)), ids=IDS)
def test_chat_prompt_matches_official(i: int) -> None:
    c = CHAT[i]
    tok = make_tokenizer(c)
    if c.get("error"):
        with pytest.raises(TemplateError) as raised:
            build_prompt(tok, c["model_type"], c["instruction"], c["modal"])
        assert type(raised.value).__name__ == c["error"]
        assert str(raised.value) == c["message"]
    else:
        prompt = build_prompt(tok, c["model_type"], c["instruction"], c["modal"])
        assert_same_text(c["prompt"], prompt, IDS[i])
    # the conversation the template received: system turn (or none) and the user turn
    assert tok.conversations, "build_prompt did not use the tokenizer's chat template"
    assert tok.conversations[-1] == c["messages"]


@pytest.mark.parametrize("i", [i for i, c in enumerate(CHAT) if not c.get("error")],
                         ids=[IDS[i] for i, c in enumerate(CHAT) if not c.get("error")])
def test_multimodal_token_split_matches_official_input_ids(i: int) -> None:
    """tokenize_with_modal on the official prompt == the input_ids the official generate() got.
    (Uses the golden prompt, so it isolates tokenisation from prompt building.)"""
    c = CHAT[i]
    tok = make_tokenizer(c)
    ids = tokenize_with_modal(c["prompt"], tok, c["modal"]).tolist()
    want = c["input_ids"]
    if ids != want:
        k = next((k for k in range(min(len(ids), len(want))) if ids[k] != want[k]), min(len(ids), len(want)))
        raise AssertionError(f"input_ids differ at position {k} (len ours {len(ids)}, official {len(want)}): "
                             f"ours {ids[max(0, k - 5):k + 5]}, official {want[max(0, k - 5):k + 5]}")


def test_the_char_tokenizer_reproduces_the_golden_tokenizer() -> None:
    """Guards the stand-in: every golden input_ids decodes to its prompt with the modal tokens put
    back (so a mismatch above is a harness difference, not a tokenizer-reconstruction one)."""
    placeholder = {-201: "<video>", -200: "<image>"}
    for c in CHAT:
        if c.get("error"):
            continue
        by_id = {v: k for k, v in SPECIAL_IDS[c["template_id"]].items()}
        text = "".join(placeholder.get(t) or by_id.get(t) or chr(t - CHAR_OFFSET) for t in c["input_ids"])
        assert text == c["prompt"]
