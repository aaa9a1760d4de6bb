"""Seed 003, DeepCustom: per-class autoencoder generators of adversarial data (:mod:`.generators`),
Tarantula suspiciousness of neurons (:mod:`.suspiciousness`) and LRP-relevant pixels (:mod:`.relevance`)."""
