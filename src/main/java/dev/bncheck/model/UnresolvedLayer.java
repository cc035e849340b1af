package dev.bncheck.model;

/**
 * A BN computation found in the graph whose parameters could not be read; reported, never
 * silently dropped.
 *
 * @param node the node and the functions it runs in
 * @param op the op or pattern, e.g. {@code FusedBatchNormV3}
 * @param reason what could not be resolved
 * @param trainingMode whether the node normalizes with the batch's own statistics
 */
public record UnresolvedLayer(String name, String node, String op, String reason, boolean trainingMode) {}
