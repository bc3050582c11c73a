import Foundation

/// Reads the results file of an ask/tell round (`lossc search tell`, and any other ask/tell
/// command): JSON lines `{"id": "G-I", "fitness": 0.41}` or `{"id": "G-I", "error": "why"}`.
///
/// Refused (the state is left as it was, nothing is lost): an empty file; a line that is not
/// such an object (a manifest line, `"fitness": true`, `"fitness": "0.4"`); an id given twice;
/// an id of another generation (a stale file); an id that names no pending candidate. Ids of
/// the batch that the file does not mention stay pending: they can be asked again.
public enum TellResults {
    public struct Problem: Error, CustomStringConvertible {
        /// 1-based line of the file, when the problem is on one line.
        public let line: Int?
        public let message: String
        public var description: String { message }
    }

    struct Line: Decodable {
        let id: String
        let fitness: Double?
        let error: String?
    }

    /// The results by id. `pending` are the ids waiting for a result, `generation` the
    /// generation they belong to (ids are "generation-index").
    /// `told` are ids of the batch that already have a result (told again: refused).
    public static func parse(_ text: String, pending: [String], generation: Int, told: Set<String> = []) throws(Problem) -> [String: StageResult] {
        let waiting = Set(pending)
        var out: [String: StageResult] = [:]
        var firstLine: [String: Int] = [:]
        let decoder = JSONDecoder()
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let t = raw.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            let line: Line
            do { line = try decoder.decode(Line.self, from: Data(t.utf8)) } catch {
                throw Problem(line: n + 1, message: "expected {\"id\": \"G-I\", \"fitness\": NUMBER} or {\"id\": \"G-I\", \"error\": \"TEXT\"}"
                              + (t.contains("\"fitness\"") ? " (fitness must be a JSON number)" : ""))
            }
            if let first = firstLine[line.id] { throw Problem(line: n + 1, message: "id '\(line.id)' already given on line \(first)") }
            firstLine[line.id] = n + 1
            if told.contains(line.id) { throw Problem(line: n + 1, message: "id '\(line.id)' already has a result (told before)") }
            if !waiting.contains(line.id) {
                if let g = line.id.split(separator: "-").first.flatMap({ Int($0) }), g != generation {
                    throw Problem(line: n + 1, message: "id '\(line.id)' is from generation \(g + 1), but generation \(generation + 1) is waiting (a stale results file?)")
                }
                throw Problem(line: n + 1, message: "id '\(line.id)' is not a pending candidate of generation \(generation + 1)")
            }
            if let f = line.fitness {
                guard f.isFinite else { throw Problem(line: n + 1, message: "fitness must be finite") }
                out[line.id] = .pass(f)
            } else if let e = line.error {
                out[line.id] = .fail(e.isEmpty ? "evaluation failed" : e)
            } else {
                throw Problem(line: n + 1, message: "line has neither \"fitness\" nor \"error\"")
            }
        }
        if out.isEmpty { throw Problem(line: nil, message: "no results in the file (expected one JSON line per candidate)") }
        return out
    }
}
