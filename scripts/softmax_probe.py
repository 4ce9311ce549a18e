"""The linear probe the attribute probe scripts share: a softmax regression on standardised features, trained with
Adam (lr 1e-3, L2 1e-3, batch 256), numpy only. Imported by attribute-probe-grid.py and attribute-pixel-probe.py."""
import numpy as np


def fit_softmax(X, y, classes, epochs, rng, batch=256, lr=1e-3, l2=1e-3):
    """Weights W [d, classes] and bias b of a softmax regression of labels y (class indices) on rows X."""
    W = np.zeros((X.shape[1], classes), np.float32)
    b = np.zeros(classes, np.float32)
    m, v, t = [np.zeros_like(W), np.zeros_like(b)], [np.zeros_like(W), np.zeros_like(b)], 0
    for _ in range(epochs):
        perm = rng.permutation(len(y))
        for s in range(0, len(y), batch):
            idx = perm[s:s + batch]
            xb = X[idx]
            z = xb @ W + b
            z -= z.max(1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(1, keepdims=True)
            p[np.arange(len(idx)), y[idx]] -= 1
            p /= len(idx)
            t += 1
            for k, (P, G) in enumerate(zip([W, b], [xb.T @ p + l2 * W, p.sum(0)])):
                m[k] = 0.9 * m[k] + 0.1 * G
                v[k] = 0.999 * v[k] + 0.001 * G * G
                P -= lr * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
    return W, b
