"""Pictures of DLSR's architecture weights, for people.

    alpha.png   cell level: softmax(alpha), one row per distillation step,
                one column per candidate op; the op each step derives is
                boxed.
    links.png   network level: softmax(beta_k), one row per block k >= 3,
                one column per earlier block output it may read; the
                `kept_inputs` it derives are boxed.
"""

import numpy as np

from tfsr.search.dlsr import softmax


def _heat_map(weights, chosen, row_labels, col_labels, title, path):
    """`weights`: rows x cols (NaN cells are left blank); `chosen`: (row, col) pairs boxed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    rows, cols = weights.shape
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * cols, 1.2 + 0.5 * rows))
    image = ax.imshow(np.ma.masked_invalid(weights), cmap="viridis", vmin=0.0, vmax=max(np.nanmax(weights), 1e-6))
    for r in range(rows):
        for c in range(cols):
            if not np.isnan(weights[r, c]):
                light = weights[r, c] < 0.6 * np.nanmax(weights)
                ax.text(c, r, f"{weights[r, c]:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if light else "black")  # fmt: skip
    for r, c in chosen:
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2))
    ax.set_xticks(range(cols), col_labels)
    ax.set_yticks(range(rows), row_labels)
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.03)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_alpha(space, alpha, path, title="cell level: softmax(alpha), derived op boxed"):
    weights = softmax(alpha)
    chosen = [(s, int(k)) for s, k in enumerate(np.argmax(weights, axis=-1))]
    steps = [f"step {s + 1}" for s in range(weights.shape[0])]
    _heat_map(weights, chosen, steps, list(space.candidates), title, path)


def plot_links(space, betas, path, title="network level: softmax(beta), kept inputs boxed"):
    sizes = space.beta_sizes()
    if not sizes:
        return
    weights = np.full((len(sizes), max(sizes)), np.nan)
    chosen = []
    for r, beta in enumerate(betas):
        w = softmax(beta)
        weights[r, : len(w)] = w
        chosen += [(r, int(j)) for j in np.argsort(-w, kind="stable")[: space.kept_inputs]]
    blocks = [f"B{k} reads" for k in range(3, space.blocks + 1)]
    _heat_map(weights, chosen, blocks, [f"B{j + 1}" for j in range(max(sizes))], title, path)
