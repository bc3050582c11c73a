import Foundation

/// The one reader of `tell` results files, shared by `lossc search tell` and
/// `lossc search-params FILE tell`, and the one writer of `ask` manifests.
///
/// Candidate ids are `ROUND-INDEX` (`3-17`: round 3, candidate 17; `0-initial` for the formula
/// as written in a parameter search). A results file holds one JSON object per line,
/// `{"id": "3-17", "fitness": 0.41}` or `{"id": "3-17", "error": "why"}`; other keys are ignored.
/// A file is applied whole or not at all: every line is checked before anything is recorded.
/// Refused (exit 2, `file:line:col: error:`): a line that is not such an object, a `fitness`
/// that is not a finite JSON number (`true`, `"0.4"`, `1e999`), both or neither of `fitness`
/// and `error`, an id twice, an id of another round (a stale file), an id the round does not
/// have, an id that already has a result, and a file with no line at all (an empty file, or the
/// manifest passed by mistake, is never read as "every candidate failed").
enum AskTellResults {
    /// What a results line says about one candidate.
    enum Outcome: Equatable {
        case fitness(Double)
        case error(String)
    }

    static func id(round: Int, _ index: Int) -> String { "\(round)-\(index)" }

    /// Reads `path` against the round waiting for results: `ids` are all of the round's ids,
    /// `outstanding` those without a result yet. Returns the outcomes by id (file order kept).
    static func read(_ path: String, round: Int, ids: [String], outstanding: Set<String>, ask: String) throws -> [(id: String, outcome: Outcome)] {
        let text = String(decoding: try readFile(path, limit: 64 << 20, what: "results files"), as: UTF8.self)
        let all = Set(ids)
        var out: [(id: String, outcome: Outcome)] = []
        var firstLine: [String: Int] = [:]
        let shape = "expected {\"id\": \"\(ids.first ?? "R-I")\", \"fitness\": NUMBER} or {\"id\": …, \"error\": \"…\"}"
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let at = "\(path):\(n + 1):1"
            guard let entry = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)) else {
                throw UsageError(shape + " (a fitness must be a JSON number, an error a string)", location: at)
            }
            let outcome: Outcome
            switch (entry.fitness, entry.error) {
            case (let f?, nil):
                guard f.isFinite else { throw UsageError("the fitness of '\(entry.id)' is not finite", location: at) }
                outcome = .fitness(f)
            case (nil, let e?): outcome = .error(e)
            case (nil, nil):
                throw UsageError("'\(entry.id)' has neither \"fitness\" nor \"error\"", hint: entry.loss != nil
                                 ? "this looks like the manifest; tell takes the results of evaluating it" : nil, location: at)
            case (.some, .some): throw UsageError("'\(entry.id)' has both \"fitness\" and \"error\"", location: at)
            }
            if let first = firstLine[entry.id] {
                throw UsageError("'\(entry.id)' appears twice (first on line \(first))", location: at)
            }
            firstLine[entry.id] = n + 1
            guard all.contains(entry.id) else {
                if let r = entry.id.split(separator: "-").first.flatMap({ Int($0) }), r != round {
                    throw UsageError("'\(entry.id)' is a candidate of round \(r); the round waiting for results is \(round)",
                                     hint: "a stale results file? nothing was recorded; '\(ask)' lists the pending candidates", location: at)
                }
                throw UsageError("round \(round) has no candidate '\(entry.id)'", hint: "'\(ask)' lists the pending candidates", location: at)
            }
            guard outstanding.contains(entry.id) else {
                throw UsageError("'\(entry.id)' already has a result", hint: "nothing was recorded; send each result once", location: at)
            }
            out.append((entry.id, outcome))
        }
        if out.isEmpty {
            throw UsageError("no results in the file; round \(round) waits for \(outstanding.count) (e.g. '\(outstanding.sorted().first ?? "")')",
                             hint: "nothing was recorded; lines are {\"id\": …, \"fitness\": …} or {\"id\": …, \"error\": …}", location: "\(path):1:1")
        }
        return out
    }

    /// Writes the manifest of the candidates to evaluate: one JSON object per line with `id`,
    /// `round` and the candidate's files (`loss`, and `c` where emitted).
    static func writeManifest(_ url: URL, _ lines: [[(String, String)]]) throws {
        try writeOutput(url.path, lines.map { JSON.object($0) + "\n" }.joined())
    }

    private struct Line: Decodable {
        let id: String
        let fitness: Double?
        let error: String?
        let loss: String?
    }
}
