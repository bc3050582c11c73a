import Foundation
import LossDSL

/// The settings of a search run (stored in its checkpoint: a resumed run keeps them).
public struct SearchConfig: Codable, Sendable, Equatable {
    public var kind: String
    /// Candidates generated per generation.
    public var population: Int = 100
    public var generations: Int = 10
    public var seed: UInt64 = 1
    /// Survivors of the filters evaluated on the proxy task per generation (top by stage-2 score).
    public var topK: Int = 20
    /// Parents kept for the next generation (top by fitness over the whole run).
    public var parents: Int = 10
    public var crossoverRate: Double = 0.5
    public var mutationRate: Double = 0.9
    public var maxHeight: Int = 10
    public var maxSize: Int = 50
    /// Depth of the random trees of the first generation.
    public var initialDepth: Int = 4
    /// Genome texts of seed formulas (from `.loss` files) put into the first generation.
    public var seeds: [String] = []
    /// False for the vanilla EA (no convergence filters).
    public var filters: Bool = true

    public init(kind: LossKind) { self.kind = kind.rawValue }
}

/// What became of one distinct candidate (keyed by its canonical form).
public struct CandidateRecord: Codable, Sendable, Equatable {
    public var genome: String
    public var generation: Int
    /// "stage1", "stage2", "evaluated" or "failed" (evaluation error).
    public var outcome: String
    public var reason: String?
    public var stage2: Double?
    public var fitness: Double?
}

/// Counts for one generation.
public struct GenerationStats: Codable, Sendable, Equatable {
    public var generation: Int
    public var generated = 0
    public var duplicates = 0
    public var invalid = 0
    public var rejectedStage1 = 0
    public var rejectedStage2 = 0
    public var evaluated = 0
    public var failed = 0
    public var bestFitness: Double?
    public var seconds: Double = 0
    /// Time spent in each stage (wall clock, all workers together).
    public var stage1Seconds: Double = 0
    public var stage2Seconds: Double = 0
    public var fitnessSeconds: Double = 0
}

/// A generation whose filters have run and whose chosen candidates await their fitness.
public struct PendingGeneration: Codable, Sendable, Equatable {
    public var stats: GenerationStats
    /// The generator state after breeding this generation.
    public var rngState: UInt64
    /// Outcomes of this generation's fresh candidates so far, by canonical key.
    public var records: [String: CandidateRecord]
    /// Keys of the candidates to evaluate, in order.
    public var chosen: [String]
    /// Their positions in the generation (for directory names).
    public var chosenIndex: [Int]
    /// When the generation started (its wall time includes waiting for ask/tell results).
    public var started: Date? = nil
}

/// Everything needed to continue a run: written atomically after every generation.
public struct SearchState: Codable, Sendable, Equatable {
    public static let formatVersion = 1
    public var version = SearchState.formatVersion
    public var config: SearchConfig
    /// Generations completed.
    public var generation = 0
    public var rngState: UInt64
    public var parents: [String] = []
    public var records: [String: CandidateRecord] = [:]
    public var history: [GenerationStats] = []
    /// A generation waiting for fitness values from outside (`lossc search ask` / `tell`).
    public var pending: PendingGeneration?

    public init(config: SearchConfig) {
        self.config = config
        rngState = config.seed
    }

    /// The best evaluated records, best first (ties broken by key for determinism).
    public func best(_ n: Int) -> [(key: String, record: CandidateRecord)] {
        records.filter { $0.value.fitness != nil }
            .sorted { a, b in
                a.value.fitness! != b.value.fitness! ? a.value.fitness! > b.value.fitness! : a.key < b.key
            }
            .prefix(n).map { ($0.key, $0.value) }
    }

    /// Writes the checkpoint atomically (temporary file + rename): a crash leaves the previous one.
    public func save(to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data = try enc.encode(self)
        try data.write(to: dir.appendingPathComponent("checkpoint.json"), options: .atomic)
    }

    /// Loads a checkpoint, with a clear error for a missing, truncated or edited file.
    public static func load(from dir: URL) throws -> SearchState {
        let url = dir.appendingPathComponent("checkpoint.json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SearchError.checkpoint("no checkpoint at \(url.path)")
        }
        let state: SearchState
        do { state = try JSONDecoder().decode(SearchState.self, from: data) } catch {
            throw SearchError.checkpoint("\(url.path) is corrupt (\(describe(error))); refusing to start over and lose its results — move it away to start a new run")
        }
        guard state.version == formatVersion else {
            throw SearchError.checkpoint("\(url.path) has format version \(state.version); this lossc reads version \(formatVersion)")
        }
        guard LossKind(rawValue: state.config.kind) != nil, state.generation >= 0, state.generation <= state.config.generations else {
            throw SearchError.checkpoint("\(url.path) is inconsistent (kind or generation out of range)")
        }
        return state
    }
}

/// Errors of a search run that the CLI reports as bad input (exit 2).
public enum SearchError: Error, CustomStringConvertible {
    case checkpoint(String)
    case configuration(String)

    public var description: String {
        switch self {
        case .checkpoint(let s), .configuration(let s): return s
        }
    }
}

private func describe(_ e: Error) -> String {
    if let d = e as? DecodingError {
        switch d {
        case .dataCorrupted(let c): return c.debugDescription
        case .keyNotFound(let k, _): return "missing field '\(k.stringValue)'"
        case .typeMismatch(_, let c): return "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        case .valueNotFound(_, let c): return "missing value at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        @unknown default: return "unreadable"
        }
    }
    return "unreadable"
}
