import Codegen
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
    /// Binary proxy with CSE-Autoloss's conventions: α_t = A·y + (1 − A)(1 − y) outside the
    /// formula and w = 0 for negatives (`--alpha-t A`); nil: the plain proxy.
    public var alphaT: Double? = nil

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
    /// Results told so far (`lossc search tell`), by candidate id (`GENERATION-INDEX`); the
    /// generation completes when every chosen candidate has one.
    public var told: [String: StageResult]? = nil

    /// The ids of the chosen candidates, in order.
    public var ids: [String] { chosenIndex.map { "\(stats.generation)-\($0)" } }
}

/// Everything needed to continue a run: written atomically after every generation.
public struct SearchState: Codable, Sendable, Equatable {
    /// 2: with `checksum` (version 1 files, without one, are still read).
    public static let formatVersion = 2
    public var version = SearchState.formatVersion
    /// A hash of the rest of the state as written: an edited or damaged checkpoint is refused.
    public var checksum: String?
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

    /// The canonical bytes of the state without its checksum, and their hash.
    func canonical() throws -> (data: Data, hash: String) {
        var s = self
        s.checksum = nil
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data = try enc.encode(s)
        return (data, ContentHash.hex(String(decoding: data, as: UTF8.self)))
    }

    /// Writes the checkpoint atomically (`OutputFile`: temporary file, fsync, rename): a crash
    /// leaves the previous one; a failed write is an error, never a silently short file.
    public func save(to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var s = self
        s.version = SearchState.formatVersion
        s.checksum = try s.canonical().hash
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        do { try OutputFile.write(dir.appendingPathComponent("checkpoint.json").path, [UInt8](try enc.encode(s))) } catch let e as OutputError {
            throw SearchError.checkpoint(e.description)
        }
    }

    /// Loads a checkpoint, with a clear error for a missing, truncated, edited or inconsistent file.
    public static func load(from dir: URL) throws -> SearchState {
        let url = dir.appendingPathComponent("checkpoint.json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SearchError.checkpoint("no checkpoint at \(url.path)")
        }
        let state: SearchState
        do { state = try JSONDecoder().decode(SearchState.self, from: data) } catch {
            throw SearchError.checkpoint("\(url.path) is corrupt (\(describe(error))); refusing to start over and lose its results — move it away to start a new run")
        }
        guard state.version == formatVersion || state.version == 1 else {
            throw SearchError.checkpoint("\(url.path) has format version \(state.version); this lossc reads versions 1 and \(formatVersion)")
        }
        if state.version >= 2 {
            guard let sum = state.checksum, sum == (try? state.canonical().hash) else {
                throw SearchError.checkpoint("\(url.path) fails its checksum (edited or damaged); refusing to resume from it — restore it, or move it away to start a new run")
            }
        }
        if let problem = state.inconsistency() { throw SearchError.checkpoint("\(url.path) is inconsistent: \(problem)") }
        return state
    }

    /// What is impossible in this state (a hand-edited file), or nil.
    func inconsistency() -> String? {
        let c = config
        guard LossKind(rawValue: c.kind)?.isSupported == true else { return "unknown kind '\(c.kind)'" }
        guard c.population > 0, c.topK > 0, c.parents > 0, c.maxHeight >= 2, c.maxSize >= 3, c.generations >= 0 else {
            return "population, top-k, parents must be positive; height >= 2, size >= 3"
        }
        guard generation >= 0, generation <= c.generations else { return "generation \(generation) outside 0...\(c.generations)" }
        guard history.count == generation else { return "\(history.count) generations of history for generation \(generation)" }
        if let p = pending {
            guard p.stats.generation == generation else { return "the pending batch is for generation \(p.stats.generation), not \(generation)" }
            guard p.chosen.count == p.chosenIndex.count, Set(p.chosenIndex).count == p.chosenIndex.count,
                  p.chosen.allSatisfy({ p.records[$0] != nil }) else { return "the pending batch lists unknown or repeated candidates" }
        }
        return nil
    }
}

/// Errors of a search run that the CLI reports as bad input (exit 2).
public enum SearchError: Error, CustomStringConvertible {
    case checkpoint(String)
    case configuration(String)
    /// SIGINT/SIGTERM arrived: evaluators were stopped and the generation in flight dropped.
    case interrupted(Int32)

    public var description: String {
        switch self {
        case .checkpoint(let s), .configuration(let s): return s
        case .interrupted(let sig): return "interrupted by signal \(sig)"
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
