def test_canary():
    assert False, 'canary'
