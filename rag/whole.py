"""Whole-document mode: "summarise / compare / list all" questions read the document, not snippets.

A question asking for a summary, a comparison or a complete list is answered from the whole
document in scope (the chosen documents, else the one the best passage comes from). When the
document fits the window it is sent whole, page by page; when it doesn't, each window-sized part is
condensed first (map) and the answer is written from those notes (reduce).

>>> wants_whole_document("Résume le guide des voyageurs"), wants_whole_document("When does the depot open?")
(True, False)
"""

from __future__ import annotations

import re
import threading
from dataclasses import replace

from core.chat import ChatModel
from rag.documents import Chunk, Passage
from rag.packing import PackedContext, pack
from rag.prompting import build_messages
from rag.retrieval import merge_neighbours
from rag.index.store import Store

_INTENT = re.compile(
    r"\b(summar|sum up|overview|compar|list (all|every)|all the|résum|synthè|compare|liste[rz]? |tou(te)?s les|"
    r"zusammenfass|überblick|vergleich|alle |resum|compara|enumera|todos los|todas las|riassum|sintesi|confront|"
    r"elenca|tutti i|tutte le)", re.I)
MAP_INSTRUCTION = ("Write concise notes of everything in these sources that helps answer the question, "
                   "with the page of each point. Question: ")


def wants_whole_document(question: str) -> bool:
    """Does the question ask for a summary, a comparison or a complete list?"""
    return bool(_INTENT.search(question))


def document_passages(store: Store, doc_ids: list[str]) -> list[Passage]:
    """Every chunk of the documents, in reading order, neighbouring chunks joined into page passages."""
    chunks: list[Chunk] = sorted(store.chunks(doc_ids=doc_ids), key=lambda c: (doc_ids.index(c.doc_id), c.index))
    return merge_neighbours([Passage(chunk=c, score=1.0) for c in chunks])


def pack_whole(question: str, passages: list[Passage], *, chat: ChatModel, language: str, answer_tokens: int,
               history=(), stop: threading.Event | None = None) -> tuple[PackedContext, str]:
    """The packed prompt and the mode: ``whole document`` if it all fits, else ``map-reduce`` over parts."""
    packed = _pack_in_order(question, passages, chat=chat, language=language, answer_tokens=answer_tokens,
                            history=history)
    if not packed.left_out:
        return packed, "whole document"
    notes: list[Passage] = []
    remaining = passages
    while remaining and not (stop and stop.is_set()):
        part = _pack_in_order(MAP_INSTRUCTION + question, remaining, chat=chat, language=language,
                              answer_tokens=answer_tokens)
        if not part.passages:
            break
        text = "".join(chat.stream(part.messages, max_tokens=answer_tokens, temperature=0.0, stop=stop)).strip()
        first = part.passages[0].chunk
        notes.append(Passage(chunk=Chunk(first.doc_id, first.source, first.page, 0, len(text), text, first.language,
                                         len(notes), first.sha256), score=1.0))
        remaining = list(part.left_out)
    return _pack_in_order(question, notes, chat=chat, language=language, answer_tokens=answer_tokens,
                          history=history), "map-reduce"


def _pack_in_order(question: str, passages: list[Passage], *, chat: ChatModel, language: str, answer_tokens: int,
                   history=()) -> PackedContext:
    """The longest prefix of ``passages`` that fits, kept in reading order (binary search, exact counts)."""
    limit = chat.n_ctx - answer_tokens

    def messages(n: int) -> list:
        return build_messages(question, passages[:n], language=language, history=history)

    low, high = 0, len(passages)
    while low < high:
        middle = (low + high + 1) // 2
        if chat.count_tokens(messages(middle)) <= limit:
            low = middle
        else:
            high = middle - 1
    if low == 0:  # not even one page fits whole: the packer cuts it at a sentence boundary
        head = pack(passages[:1], question=question, language=language, count_tokens=chat.count_tokens,
                    n_ctx=chat.n_ctx, answer_tokens=answer_tokens, history=history)
        return replace(head, left_out=tuple(passages[1:]))
    total = chat.count_tokens(messages(low))
    base = chat.count_tokens(messages(0))
    return PackedContext(messages=messages(low), passages=tuple(passages[:low]), left_out=tuple(passages[low:]),
                         prompt_tokens=total, n_ctx=chat.n_ctx, answer_tokens=answer_tokens,
                         parts={"sources": total - base, "instructions": base, "answer_reserve": answer_tokens})
