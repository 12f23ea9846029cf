from __future__ import annotations

from loopterm.loop.extract import extract_code

APP = "from fastapi import FastAPI\napp = FastAPI()\n"


def test_last_python_block_wins() -> None:
    answer = f"First a snippet:\n```python\nx = 1\n```\nThen the file:\n```python\n{APP}```\nDone."
    assert extract_code(answer) == APP


def test_untagged_and_py_tags_count_but_other_languages_do_not() -> None:
    assert extract_code(f"```\n{APP}```") == APP
    assert extract_code(f"```py\n{APP}```") == APP
    answer = f"```python\n{APP}```\n```bash\npip install fastapi\n```"
    assert extract_code(answer) == APP


def test_plain_code_answer_is_taken_whole() -> None:
    assert extract_code(APP) == APP


def test_prose_without_code_is_none() -> None:
    assert extract_code("I think the approach is fine; no change needed.") is None
    assert extract_code("") is None
    assert extract_code("```python\n\n```") is None


def test_prose_mentioning_app_that_does_not_compile_is_none() -> None:
    assert extract_code("The app should return 201 for created quotes.") is None


def test_tilde_fences_and_longer_fences() -> None:
    assert extract_code(f"~~~python\n{APP}~~~") == APP
    assert extract_code(f"````python\n{APP}````") == APP


def test_windows_line_endings_are_read_as_plain_ones() -> None:
    # With \r\n the closing fence's line ended in \r and never matched: the answer had "no code".
    answer = f"Here it is:\r\n```python\r\n{APP.replace(chr(10), chr(13) + chr(10))}```\r\n"
    assert extract_code(answer) == APP


def test_an_indented_fence_as_in_a_list_item_loses_its_indent() -> None:
    indented = "".join(f"   {line}\n" for line in APP.splitlines())
    answer = f"1. The file:\n   ```python\n{indented}   ```\n2. Run it."
    assert extract_code(answer) == APP
    # A deeper fence inside the block (a docstring showing markdown) does not end it.
    code = 'DOC = """\n   ```\n"""\n' + APP
    block = "".join(f"  {line}\n" if line else "\n" for line in code.splitlines())
    assert extract_code(f"  ```python\n{block}  ```\n") == code


def test_an_empty_block_after_the_file_does_not_hide_it() -> None:
    answer = f"```python\n{APP}```\nAnd tests, to come:\n```python\n\n```\n"
    assert extract_code(answer) == APP
