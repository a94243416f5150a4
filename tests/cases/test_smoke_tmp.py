from tests.factories import ClientFactory, make_case, make_product


def test_smoke(cast):
    c = ClientFactory()
    make_product(c, "card")
    case = make_case(actor=cast.alice, client=c)
    assert case.team == cast.team_a
