from causalpref.ui.diagrams import DIAGRAMS, RANDOMISED, SELF_WRITTEN


def test_confounding_edge_is_what_randomisation_removes():
    assert '"C" -> "X"' in SELF_WRITTEN and '"C" -> "X"' not in RANDOMISED
    assert '"C" -> "R"' in SELF_WRITTEN and '"C" -> "R"' in RANDOMISED


def test_every_diagram_is_a_digraph_with_a_caption():
    for dot, caption in DIAGRAMS.values():
        assert dot.startswith("digraph {") and dot.rstrip().endswith("}") and caption
