"""Short codes catch typos; QR tokens are unguessable."""

import itertools

from opplevelseskort.cards import codes


def test_qr_token_has_at_least_128_bits():
    token = codes.new_token()
    assert len(token) * 6 >= 128 and codes.TOKEN_RE.match(token)
    assert len({codes.new_token() for _ in range(1000)}) == 1000


def test_every_single_character_error_is_caught():
    code = codes.new_short_code()
    assert codes.is_valid_short_code(code)
    for i, wrong in itertools.product(range(len(code)), codes.ALPHABET):
        if wrong != code[i]:
            assert not codes.is_valid_short_code(code[:i] + wrong + code[i + 1:])


def test_every_adjacent_swap_is_caught():
    for _ in range(200):
        code = codes.new_short_code()
        for i in range(len(code) - 1):
            if code[i] != code[i + 1]:
                swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
                assert not codes.is_valid_short_code(swapped)


def test_typed_code_ignores_case_spaces_and_dashes():
    code = codes.new_short_code()
    assert codes.is_valid_short_code(" " + codes.format_short_code(code).lower() + " ")
