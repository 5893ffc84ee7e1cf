"""What the simulated model says: solutions, tutoring turns, refusals and generic replies."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tutorlab_sim.answers import final_line, find_arithmetic, style_for, wrong_answer
from tutorlab_sim.config import SimConfig
from tutorlab_sim.draws import SplitRanks, stable_hash, unit
from tutorlab_sim.judging import judge_reply
from tutorlab_sim.lookup import index_for, normalize
from tutorlab_sim.mirror import EVALSETS, Item, Mirror
from tutorlab_sim.safety import assess, compliance, has_math_cues, refusal
from tutorlab_sim.word_problems import solve

TUTOR_MODES: tuple[str, ...] = ("hint", "explain", "check")
_MODE = re.compile(r"\bmode\s*:\s*(hint|explain|check|solve)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z$\\])")
_MAX_WORKING_LINES = 6
_MAX_MATH_WORKING_CHARS = 600
#: earlier user turns searched for the question when the last one has none (a follow-up turn)
_HISTORY_TURNS = 4
_CACHE_SIZE = 20_000
#: the evaluation sets' prompts are matched whole (they are short: a near miss is another
#: question) and screened like any unknown prompt (they are there to test that screening)
_EVALSET_DATASETS = frozenset(dataset for dataset, _ in EVALSETS)

Message = tuple[str, str]  # (role, content)


@dataclass(frozen=True, slots=True)
class Reply:
    """The full reply before truncation: visible content, reasoning, and what kind it is."""

    content: str
    thinking: str
    #: correct | wrong | tutoring | refused | complied | generic | judged | judge_error
    outcome: str
    item_id: str | None = None


def find_mode(messages: Sequence[Message]) -> str | None:
    """The ``Mode: <mode>`` marker of the last user message, else of the latest system message."""
    users = [content for role, content in messages if role == "user"]
    systems = [content for role, content in messages if role == "system"]
    for text in [*users[-1:], *reversed(systems)]:
        match = _MODE.search(text)
        if match:
            return match.group(1).lower()
    return None


def _snippet(text: str, words: int = 25) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def _mentions(text: str, gold: str) -> bool:
    if re.fullmatch(r"-?\d+(\.\d+)?", gold):
        return re.search(rf"(?<![\d.]){re.escape(gold)}(?![\d])", text.replace(",", "")) is not None
    return gold in text


def working_lines(item: Item, correct: bool) -> list[str]:
    """A few lines of plausible working taken from the reference solution, never its final
    answer line (may be none); a wrong answer's working stops before the last step."""
    if item.dataset == "gsm8k":
        lines = [
            line.strip()
            for line in item.solution.splitlines()
            if line.strip() and not line.lstrip().startswith("####")
        ]
        if not correct and len(lines) > 1:
            lines = lines[:-1]
        return lines[:_MAX_WORKING_LINES]
    lines = []
    size = 0
    for sentence in _SENTENCE_END.split(item.solution):
        lowered = sentence.lower()
        if "boxed" in lowered or "fbox" in lowered or "answer is" in lowered:
            break
        size += len(sentence)
        if size > _MAX_MATH_WORKING_CHARS or len(lines) == 2:
            break
        lines.append(sentence.strip())
    if not correct and len(lines) > 1:
        lines = lines[:-1]
    return lines


_SET_UP = "Let me set up the problem carefully and work through it."
_GENERIC_STEP = {
    "hint": "Start by writing down what the problem gives you and what it asks you to find.",
    "explain": (
        "The key idea is to break the problem into smaller steps and solve one piece at a time."
    ),
    "check": "Go back over each step of your work and make sure every calculation is right.",
}
_STEP_INTRO = {
    "hint": "Here's a hint to get you going. ",
    "explain": "Let's break this down together. ",
    "check": "Let's check your work one step at a time. ",
}
_STEP_WHY = {
    "hint": "",
    "explain": " This step matters because it turns the words of the problem into numbers.",
    "check": "",
}
_QUESTIONS = {
    "hint": (
        "What do you get when you do that first step?",
        "Which quantity do you think you should find first?",
        "Can you write that step down and tell me the result?",
    ),
    "explain": (
        "Can you explain in your own words why this step works?",
        "How would you use this idea for the next step of your problem?",
        "What do you think the next step should be?",
    ),
    "check": (
        "Does your work match this step, or is there a place where it goes differently?",
        "Which of your steps gives a different result from this one?",
        "Can you recheck that calculation and tell me what you get?",
    ),
}
_NO_QUESTION = {
    "hint": "Try the next step on your own.",
    "explain": "Now try to use this idea on your own problem.",
    "check": "Fix any step that differs, then carry on from there.",
}


class Responder:
    """Turns a chat into the simulator's reply; deterministic for a config and request seed."""

    def __init__(self, mirror: Mirror, config: SimConfig) -> None:
        self.index = index_for(mirror)
        self.ranks = SplitRanks(mirror.split_ids)
        self._config = config
        self._cache: dict[tuple[int, tuple[Message, ...]], Reply] = {}

    @property
    def config(self) -> SimConfig:
        return self._config

    @config.setter
    def config(self, config: SimConfig) -> None:
        self._config = config
        self._cache.clear()

    def reply(self, messages: Sequence[Message], request_seed: int = 0) -> Reply:
        """The reply to ``messages`` (cached: the same chat gets the same reply)."""
        key = (request_seed, tuple(messages))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        reply = self._compose(messages, request_seed)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = reply
        return reply

    def find_item(self, messages: Sequence[Message]) -> Item | None:
        """The known question in the last user message (or, failing that, a recent earlier one)."""
        users = [content for role, content in messages if role == "user"]
        for text in reversed(users[-_HISTORY_TURNS:]):
            item = self.index.find(text)
            if item is not None and (
                item.dataset not in _EVALSET_DATASETS or normalize(item.question) in normalize(text)
            ):
                return item
        return None

    def _compose(self, messages: Sequence[Message], request_seed: int) -> Reply:
        cfg = self._config
        judged = judge_reply(messages, cfg, request_seed)
        if judged is not None:
            return Reply(judged.content, judged.thinking, judged.outcome)
        users = [content for role, content in messages if role == "user"]
        prompt = users[-1] if users else ""
        mode = find_mode(messages)
        item = self.find_item(messages)
        if item is None or item.dataset in _EVALSET_DATASETS:
            flag = assess(prompt)
            if flag is not None:
                category = flag.category
                # maths with risky words is answered; a harmful request dressed as maths is not
                math = not flag.intent and has_math_cues(prompt)
                rate = cfg.over_refusal_rate if math else cfg.refusal_rate
                if unit("refuse", cfg.seed, request_seed, prompt) < rate:
                    return Reply(
                        refusal(category),
                        f"This request looks unsafe ({category}). "
                        "I should decline kindly and steer back to math.",
                        "refused",
                    )
                if not math and item is None:
                    return Reply(
                        compliance(category),
                        "The user wants help with this, so I'll go along with it.",
                        "complied",
                    )
            if item is None:
                return self._generic(prompt, mode, request_seed)
        if mode in TUTOR_MODES:
            return self._tutoring(item, mode, request_seed)
        return self._solve(item, request_seed)

    def _solve(self, item: Item, request_seed: int) -> Reply:
        cfg = self._config
        correct = self.ranks.is_correct(
            item.split_key, item.split_pos, cfg.seed, request_seed, cfg.accuracy
        )
        answer = item.gold if correct else wrong_answer(item.gold, item.id)
        working = working_lines(item, correct) or [_SET_UP]
        content = "\n".join(
            [
                "Let's solve this step by step.",
                *working,
                final_line(answer, style_for(cfg.answer_style, item.id)),
            ]
        )
        thinking = "\n".join(
            [
                f"The problem asks: {_snippet(item.question)}",
                "Let me work through it carefully.",
                *working,
                f"So the final answer should be {answer}.",
            ]
        )
        return Reply(content, thinking, "correct" if correct else "wrong", item.id)

    def _tutoring(self, item: Item, mode: str, request_seed: int) -> Reply:
        cfg = self._config
        working = working_lines(item, True)
        step = working[0] if working else ""
        if not step or _mentions(step, item.gold) or "?" in step:
            step = _GENERIC_STEP[mode]
        else:
            step += _STEP_WHY[mode]
        ask = unit("ask", cfg.seed, request_seed, item.id, mode) < cfg.tutoring_question_rate
        leak = unit("leak", cfg.seed, request_seed, item.id, mode) < cfg.tutoring_leak_rate
        parts = [_STEP_INTRO[mode] + step]
        if leak:
            parts.append(
                f"Carry this through to the end and it works out, so the answer is {item.gold}."
            )
        if ask:
            choices = _QUESTIONS[mode]
            parts.append(choices[stable_hash("question", cfg.seed, item.id, mode) % len(choices)])
        else:
            parts.append(_NO_QUESTION[mode])
        thinking = (
            f"The student wants a {mode} for: {_snippet(item.question)} "
            "I should guide them one step at a time without giving away the final answer."
        )
        return Reply(" ".join(parts), thinking, "tutoring", item.id)

    def _generic(self, prompt: str, mode: str | None, request_seed: int) -> Reply:
        cfg = self._config
        arithmetic = find_arithmetic(prompt)
        if mode in TUTOR_MODES:
            assert mode is not None
            ask = unit("ask", cfg.seed, request_seed, prompt, mode) < cfg.tutoring_question_rate
            parts = [_STEP_INTRO[mode] + _GENERIC_STEP[mode]]
            parts.append(_QUESTIONS[mode][0] if ask else _NO_QUESTION[mode])
            return Reply(
                " ".join(parts),
                f"The student wants a {mode}. I'll guide them without solving it for them.",
                "tutoring",
            )
        worked = solve(prompt)
        if worked is not None:
            content = "\n".join(
                [
                    "Let's solve this step by step.",
                    *worked.steps,
                    final_line(worked.answer, style_for(cfg.answer_style, prompt)),
                ]
            )
            return Reply(content, "A short word problem: I'll work it out step by step.", "generic")
        if arithmetic is not None:
            expression, value = arithmetic
            style = style_for(cfg.answer_style, prompt)
            content = f"Let's compute it step by step.\n{expression} = {value}\n" + final_line(
                value, style
            )
            return Reply(content, f"I can compute {expression} directly: it is {value}.", "generic")
        return Reply(
            "I'm a math tutor, and I'd be glad to help. Tell me the whole problem, including all "
            "the numbers, and we'll work through it step by step.",
            "This doesn't look like a problem I know. I'll offer general help.",
            "generic",
        )
