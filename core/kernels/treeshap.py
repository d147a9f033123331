"""Exact SHAP values of tree ensembles: path-dependent TreeSHAP (Lundberg et al., 2018).

An ensemble arrives flattened: every tree's nodes in one set of arrays, `roots` giving
where each tree starts. A node is a leaf where `left < 0`; an internal node sends a row
left when its feature is `<= threshold`, and a NaN the way `default_left` says. `values`
holds each leaf's output (already scaled: a forest's leaves divided by its tree count, a
boosted tree's by its learning rate) and `cover` the training weight that reached each
node, which is what the path-dependent algorithm conditions on. The result for a row
sums, over features, to the ensemble's output minus `expected_value`: the cover-weighted
mean of the leaves.

This is shap's C++ `tree_shap_recursive` (without its conditioning options) walked with
an explicit stack, with the same `extend`, `unwind` and `unwound sum` steps on a path buffer, so
the values agree with `shap.TreeExplainer(model).shap_values` to rounding.
"""

from __future__ import annotations

import numpy as np

from core.kernels._jit import jit


@jit
def _extend(feat, zero, one, weight, depth, zero_fraction, one_fraction, feature):  # pragma: no cover - compiled
    feat[depth] = feature
    zero[depth] = zero_fraction
    one[depth] = one_fraction
    weight[depth] = 1.0 if depth == 0 else 0.0
    for i in range(depth - 1, -1, -1):
        weight[i + 1] += one_fraction * weight[i] * (i + 1) / (depth + 1)
        weight[i] = zero_fraction * weight[i] * (depth - i) / (depth + 1)


@jit
def _unwind(feat, zero, one, weight, depth, index):  # pragma: no cover - compiled
    one_fraction = one[index]
    zero_fraction = zero[index]
    next_one = weight[depth]
    for i in range(depth - 1, -1, -1):
        if one_fraction != 0.0:
            held = weight[i]
            weight[i] = next_one * (depth + 1) / ((i + 1) * one_fraction)
            next_one = held - weight[i] * zero_fraction * (depth - i) / (depth + 1)
        else:
            weight[i] = weight[i] * (depth + 1) / (zero_fraction * (depth - i))
    for i in range(index, depth):
        feat[i] = feat[i + 1]
        zero[i] = zero[i + 1]
        one[i] = one[i + 1]


@jit
def _unwound_sum(zero, one, weight, depth, index):  # pragma: no cover - compiled
    one_fraction = one[index]
    zero_fraction = zero[index]
    next_one = weight[depth]
    total = 0.0
    if one_fraction != 0.0:
        for i in range(depth - 1, -1, -1):
            part = next_one / ((i + 1) * one_fraction)
            total += part
            next_one = weight[i] - part * zero_fraction * (depth - i)
    else:
        for i in range(depth - 1, -1, -1):
            total += weight[i] / (zero_fraction * (depth - i))
    return total * (depth + 1)


@jit
def _row_shap(x, root, width, left, right, feature, threshold, default_left, values, cover, feat, zero, one, weight,
              stack_node, stack_depth, stack_level, stack_zero, stack_one, stack_feature, phi):  # pragma: no cover - compiled
    """One tree, one row: the recursion of the paper walked with an explicit stack.

    numba cannot reliably cache a recursive function, so each pending call is a frame of
    the `stack_*` arrays. A node's path lives at `level * width` of the path buffers; its
    children copy it from there, and depth-first order means the cold child still finds
    it intact after the hot child's whole subtree has been walked.
    """
    dummy = phi.shape[0] - 1
    top = 1
    stack_node[0] = root
    stack_depth[0] = 0
    stack_level[0] = 0
    stack_zero[0] = 1.0
    stack_one[0] = 1.0
    stack_feature[0] = dummy
    while top > 0:
        top -= 1
        node = stack_node[top]
        depth = stack_depth[top]
        level = stack_level[top]
        start = (level + 1) * width
        parent = level * width
        for i in range(depth + 1):
            feat[start + i] = feat[parent + i]
            zero[start + i] = zero[parent + i]
            one[start + i] = one[parent + i]
            weight[start + i] = weight[parent + i]
        f = feat[start:start + width]
        z = zero[start:start + width]
        o = one[start:start + width]
        w = weight[start:start + width]
        _extend(f, z, o, w, depth, stack_zero[top], stack_one[top], stack_feature[top])
        if left[node] < 0:
            for i in range(1, depth + 1):
                scale = _unwound_sum(z, o, w, depth, i) * (o[i] - z[i])
                for k in range(values.shape[1]):
                    phi[f[i], k] += scale * values[node, k]
            continue
        split = feature[node]
        value = x[split]
        if np.isnan(value):
            hot = left[node] if default_left[node] else right[node]
        else:
            hot = left[node] if value <= threshold[node] else right[node]
        cold = right[node] if hot == left[node] else left[node]
        incoming_zero = 1.0
        incoming_one = 1.0
        index = 0
        while index <= depth:
            if f[index] == split:
                break
            index += 1
        if index <= depth:
            incoming_zero = z[index]
            incoming_one = o[index]
            _unwind(f, z, o, w, depth, index)
            depth -= 1
        # cold below hot: hot's subtree is walked first, as in the recursion
        for child, one_fraction in ((cold, 0.0), (hot, incoming_one)):
            stack_node[top] = child
            stack_depth[top] = depth + 1
            stack_level[top] = level + 1
            stack_zero[top] = cover[child] / cover[node] * incoming_zero
            stack_one[top] = one_fraction
            stack_feature[top] = split
            top += 1


@jit
def tree_shap(X, roots, max_depth, left, right, feature, threshold, default_left, values, cover):  # pragma: no cover - compiled
    """SHAP values, shape (rows, features, outputs), of the flattened ensemble for each row of X."""
    n_rows, n_features = X.shape
    n_outputs = values.shape[1]
    width = max_depth + 2
    slots = width * (max_depth + 3)
    phi = np.zeros((n_rows, n_features, n_outputs))
    feat = np.empty(slots, dtype=np.int64)
    zero = np.empty(slots)
    one = np.empty(slots)
    weight = np.empty(slots)
    frames = 2 * max_depth + 2
    stack_node = np.empty(frames, dtype=np.int64)
    stack_depth = np.empty(frames, dtype=np.int64)
    stack_level = np.empty(frames, dtype=np.int64)
    stack_zero = np.empty(frames)
    stack_one = np.empty(frames)
    stack_feature = np.empty(frames, dtype=np.int64)
    row_phi = np.zeros((n_features + 1, n_outputs))  # the last slot is the root's placeholder feature
    for r in range(n_rows):
        row_phi[:] = 0.0
        for t in range(roots.shape[0]):
            _row_shap(X[r], roots[t], width, left, right, feature, threshold, default_left, values, cover,
                      feat, zero, one, weight, stack_node, stack_depth, stack_level, stack_zero, stack_one,
                      stack_feature, row_phi)
        phi[r] = row_phi[:n_features]
    return phi


@jit
def expected_value(roots, left, right, values, cover):  # pragma: no cover - compiled
    """The cover-weighted mean of each tree's leaves, summed over trees: E[output]."""
    total = np.zeros(values.shape[1])
    stack = np.empty(left.shape[0], dtype=np.int64)
    for t in range(roots.shape[0]):
        root = roots[t]
        top = 0
        stack[0] = root
        top = 1
        while top > 0:
            top -= 1
            node = stack[top]
            if left[node] < 0:
                for k in range(values.shape[1]):
                    total[k] += values[node, k] * cover[node] / cover[root]
            else:
                stack[top] = left[node]
                stack[top + 1] = right[node]
                top += 2
    return total
