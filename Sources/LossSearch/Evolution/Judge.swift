import LossDSL

/// The outcome of one stage for one candidate.
public struct StageResult: Codable, Sendable, Equatable {
    public var passed: Bool
    /// A score when the stage produces one (stage 2's metric, the proxy fitness).
    public var score: Double?
    /// Why it failed (or a note).
    public var reason: String?

    public static func pass(_ score: Double? = nil) -> StageResult { StageResult(passed: true, score: score, reason: nil) }
    public static func fail(_ reason: String) -> StageResult { StageResult(passed: false, score: nil, reason: reason) }
}

/// A candidate as the stages see it.
public struct Candidate: Sendable {
    public let genome: Genome
    public let formula: Formula
    public let compiled: CompiledLoss
    /// The canonical key: candidates that are the same formula after canonicalization share it.
    public let key: String
    /// The candidate's `.loss` text (what external evaluators receive). Printed on demand: most
    /// candidates die in the filters and never need it.
    public var source: String {
        let opt = compiled.optimizedFormula
        return SourcePrinter.source(name: "candidate", kind: formula.kind, params: [], graph: opt.graph, root: opt.roots[0],
                                    comments: ["genome: \(genome.text)"])
    }

    public init?(_ genome: Genome) {
        guard let f = genome.formula() else { return nil }
        self.genome = genome
        formula = f
        compiled = CompiledLoss.compile(f)
        let c = Canonicalize.run(f.graph, roots: [f.root])
        key = String(c.graph.keys[Int(c.roots[0])], radix: 16) + "-" + String(c.graph.liveCount(from: c.roots))
    }
}

/// The two convergence-simulation filters, cheapest first.
public protocol CandidateFilter: Sendable {
    /// Convergence property verification (no training).
    func stage1(_ c: Candidate) -> StageResult
    /// Model optimization simulation (a tiny training run).
    func stage2(_ c: Candidate) -> StageResult
}

/// The fitness of a candidate that passed the filters (higher is better).
public protocol FitnessEvaluator: Sendable {
    /// `index` numbers the candidate within its generation (for file names); `generation` too.
    func fitness(_ c: Candidate, generation: Int, index: Int) -> StageResult
}

/// No filtering: every candidate passes both stages (the "vanilla EA" of the comparison).
public struct NoFilter: CandidateFilter {
    public init() {}
    public func stage1(_ c: Candidate) -> StageResult { .pass() }
    public func stage2(_ c: Candidate) -> StageResult { .pass(0) }
}
