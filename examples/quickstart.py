"""A small but real batch: write the logic for one review, then map it over many.

Run it with:  python examples/quickstart.py
"""

from __future__ import annotations

import asyncio

from hypergraph import Graph, SyncRunner, node

POSITIVE = {"great", "good", "love", "excellent", "fast"}
NEGATIVE = {"bad", "slow", "broken", "hate", "awful"}


@node(output_name="words")
def tokenize(review: str) -> list[str]:
    return [w.strip(".,!?").lower() for w in review.split()]


@node(output_name="score")
async def score(words: list[str]) -> int:
    await asyncio.sleep(0.001)  # stands in for a call to a model or an API
    return sum(w in POSITIVE for w in words) - sum(w in NEGATIVE for w in words)


@node(output_name="label")
def label(score: int) -> str:
    return "positive" if score > 0 else "negative" if score < 0 else "neutral"


graph = Graph([tokenize, score, label], name="review_sentiment")

REVIEWS = [
    "Great product, fast shipping!",
    "Broken on arrival. Awful.",
    "It is a chair.",
    "I love it, excellent quality",
    "Slow and bad support",
] * 200


def main() -> None:
    with SyncRunner() as runner:
        results = runner.map(
            graph, map_over="review", review=REVIEWS, max_concurrency=50
        )
    print(results.summary())
    counts: dict[str, int] = {}
    for value in results["label"]:
        counts[value] = counts.get(value, 0) + 1
    print("labels:", dict(sorted(counts.items())))
    print("first item:", results[0].values)


if __name__ == "__main__":
    main()
