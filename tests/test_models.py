"""Base models load through from_pretrained, from a local directory or (online) a hub name."""
import pytest
import torch

from repro.models import ModelLoadError, load_base_model, tiny_bart, tiny_gpt2


def test_local_directory_round_trip(tmp_path, word_tokenizer):
    for make in (tiny_gpt2, tiny_bart):
        model = make(vocab_size=len(word_tokenizer))
        model.save_pretrained(tmp_path / make.__name__)
        word_tokenizer.save_pretrained(tmp_path / make.__name__)
        loaded, tokenizer = load_base_model(str(tmp_path / make.__name__))
        assert type(loaded) is type(model) and not loaded.training
        assert tokenizer.pad_token is not None
        for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
            assert torch.equal(a, b), name


def test_hub_name_offline_says_what_to_do(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="needs internet access.*local directory"):
        load_base_model("gpt2-medium")


def test_unsupported_model_type(tmp_path):
    from transformers import BertConfig

    BertConfig(vocab_size=32, hidden_size=16, num_hidden_layers=1, num_attention_heads=2).save_pretrained(tmp_path)
    with pytest.raises(ModelLoadError, match="unsupported model type 'bert'.*'llama'"):
        load_base_model(str(tmp_path))
