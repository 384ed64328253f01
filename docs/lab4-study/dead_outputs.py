"""Why lab 4's network ranks architectures by chance: outputs that the last ReLU has killed.

Trains 16-32-64-5 (lab 4 Q3) for seeds 0 to 4 as the architecture search does (20 epochs, batch
512, Adam at 1e-2, ``chop.search.retrain.train_candidates``), and prints, per seed, its validation
accuracy (the search's number for that architecture and seed) and how many of the 5 outputs are 0
on every validation row: a class the network can never predict.

    python docs/lab4-study/dead_outputs.py
"""

from __future__ import annotations

from functools import partial

import torch

from chop.dataset import load_dataset
from chop.models import get_model
from chop.search.retrain import Candidate, TrainSettings, architecture, train_candidates

SEEDS = (0, 1, 2, 3, 4)
WIDENING = architecture({"seq_blocks_2": 2, "seq_blocks_4": 4})
SETTINGS = TrainSettings(max_epochs=20, batch_size=512, optimizer="adam")


def main() -> None:
    data = load_dataset("jsc-pythia")
    candidates = [Candidate(WIDENING, seed, 1e-2) for seed in SEEDS]
    trained = train_candidates(partial(get_model, "jsc-three-linear"), candidates, data, SETTINGS)
    x = torch.as_tensor(data.x_val)
    print("| seed | validation accuracy | outputs 0 on every row |")
    print("|---|---|---|")
    for found in trained:
        with torch.no_grad():
            outputs = found.model(x)
        dead = int((outputs.amax(dim=0) == 0).sum())
        print(f"| {found.candidate.seed} | {found.accuracy:.4f} | {dead} of 5 |")


if __name__ == "__main__":
    main()
