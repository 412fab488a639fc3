"""HMANHead options are checked when the head is built: each error names
the option and the fix (issue 14, item 2)."""
import pytest
import torch
from mmaction.registry import MODELS

HEAD = dict(
    type='HMANHead',
    num_classes=4,
    in_channels=6,
    num_segments=2,
    rnn=dict(type='HMLSTM', hidden_size=4, num_layers=2),
    attention=dict(type='SoftAttention', hidden_channels=3))


def build(**changes):
    cfg = dict(HEAD)
    for key, value in changes.items():
        if '.' in key:
            sub, name = key.split('.')
            cfg[sub] = dict(cfg[sub], **{name: value})
        else:
            cfg[key] = value
    return MODELS.build(cfg)


@pytest.mark.parametrize('option, value', [
    ('rnn.hidden_size', 0),
    ('rnn.hidden_size', -3),
    ('attention.hidden_channels', 0),
    ('attention.hidden_channels', -1),
    ('rnn.num_layers', 0),
    ('feat_channels', -2),
    ('in_channels', 0),
    ('num_classes', 0),
    ('dropout_ratio', 1.5),
])
def test_bad_sizes_name_the_option(option, value):
    with pytest.raises(ValueError) as error:
        build(**{option: value})
    message = str(error.value)
    assert f'cls_head.{option}' in message
    assert repr(value) in message


def test_misspelt_key_names_hmanhead_and_the_nearest_key_with_its_place():
    with pytest.raises(TypeError) as error:
        build(num_layer=3)
    message = str(error.value)
    assert 'HMANHead' in message and 'BaseHead' not in message
    assert '`num_layer`' in message
    assert 'cls_head.rnn.num_layers' in message


def test_misspelt_key_of_the_head_itself_and_inside_a_sub_config():
    with pytest.raises(TypeError, match=r'cls_head\.dropout_ratio'):
        build(dropout_ration=0.1)
    with pytest.raises(
            TypeError, match=r'rnn\.hiden_size.*'
            r'cls_head\.rnn\.hidden_size'):
        build(**{'rnn.hiden_size': 8})


def test_valid_options_and_base_head_keys_still_build():
    head = build(average_clips='prob', topk=(1, ), feat_channels=5)
    assert head.fc_cls.in_features == 4


def test_in_channels_mismatch_names_both_numbers():
    head = build().eval()
    with torch.no_grad():
        head(torch.randn(2, 6, 2, 2))  # matching channels run
        with pytest.raises(ValueError) as error:
            head(torch.randn(2, 8, 2, 2))
    message = str(error.value)
    assert 'in_channels=6' in message and '8 channels' in message
