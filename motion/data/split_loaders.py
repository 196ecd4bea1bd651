"""What the windowed LightningDataModules share: build the train / val datasets once, and
their loaders (shuffled training batches, persistent workers when there are workers)."""

from __future__ import annotations

from typing import Any

from torch.utils.data import DataLoader, Dataset


class SplitLoaders:
    """Mixin for a ``LightningDataModule`` that defines ``_dataset(split, hop) -> Dataset`` and
    holds ``datasets``, ``hop``, ``val_hop``, ``batch_size`` and ``num_workers``."""

    datasets: dict[str, Any]
    hop: int
    val_hop: int
    batch_size: int
    num_workers: int

    def _dataset(self, split: str, hop: int) -> Dataset:
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if "train" not in self.datasets and stage in (None, "fit"):
            self.datasets["train"] = self._dataset("train", self.hop)
        if "val" not in self.datasets and stage in (None, "fit", "validate"):
            self.datasets["val"] = self._dataset("val", self.val_hop)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        return DataLoader(self.datasets[split], batch_size=self.batch_size, shuffle=shuffle,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", False)
