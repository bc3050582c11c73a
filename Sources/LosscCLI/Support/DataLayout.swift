import Foundation
import LossDSL

/// How the columns of an eval CSV map to a kind's inputs.
struct DataLayout {
    let kind: LossKind
    /// For each kind input index, the CSV columns holding it (several for a class vector).
    var columns: [Int: [Int]] = [:]
    /// Multiclass: y given as a class index column.
    var yIndexColumn: Int?
    var classes = 1
    let width: Int

    init(kind: LossKind, header: [String], reader: CSVReader) throws {
        self.kind = kind
        width = header.count
        var byName: [String: Int] = [:]
        for (i, h) in header.enumerated() {
            if byName[h] != nil { throw reader.error(column: i + 1, "column '\(h)' appears twice") }
            byName[h] = i
        }
        var used = Set<Int>()
        func take(_ n: String) -> Int? { if let c = byName[n] { used.insert(c); return c }; return nil }
        switch kind {
        case .multiclass:
            var k = 0
            var xs: [Int] = []
            while let c = take("x\(k)") { xs.append(c); k += 1 }
            guard !xs.isEmpty else {
                throw reader.error(column: 1, "a multiclass loss needs logit columns x0, x1, …, x<C-1>")
            }
            classes = xs.count
            columns[0] = xs
            if let y = take("y") { yIndexColumn = y } else {
                let ys = (0..<classes).compactMap { take("y\($0)") }
                guard ys.count == classes else {
                    throw reader.error(column: 1, "a multiclass loss needs a class-index column y, or one-hot columns y0 … y\(classes - 1)")
                }
                columns[1] = ys
            }
            if let w = take("w") { columns[2] = [w] }
        default:
            for i in kind.dataInputs {
                let name = kind.inputs[i].name
                if let c = take(name) { columns[i] = [c] }
                else if !(kind == .binary && name == "w") {
                    throw reader.error(column: 1, "missing column '\(name)' for a \(kind.rawValue) loss",
                                       hint: "the columns are " + kind.dataInputs.map { kind.inputs[$0].name }.joined(separator: ","))
                }
            }
        }
        let known = kind == .multiclass ? ["x0", "x1", "y", "y0", "w"] : kind.dataInputs.map { kind.inputs[$0].name }
        for (i, h) in header.enumerated() where !used.contains(i) {
            let near = nearestNames(to: h, in: known)
            throw reader.error(column: i + 1, "unknown column '\(h)' for a \(kind.rawValue) loss",
                               hint: near.first.map { "did you mean '\($0)'?" } ?? "the columns are \(known.joined(separator: ","))…")
        }
    }

    func gradientColumns(_ names: [String]) -> [String] {
        kind == .multiclass ? (0..<classes).map { "d_x\($0)" } : names
    }

    func inputs<T: LossReal>(_ row: [Substring], reader: CSVReader, allowNonFinite: Bool = false) throws -> [InputValue<T>] {
        guard row.count == width else {
            throw reader.error(column: 1, "expected \(width) values, found \(row.count)")
        }
        func num(_ c: Int) throws -> T {
            let s = row[c].trimmingCharacters(in: .whitespaces)
            guard let d = Double(s) else { throw reader.error(column: c + 1, "'\(truncateText(String(s)))' is not a number") }
            if !d.isFinite, !allowNonFinite {
                throw reader.error(column: c + 1, "'\(truncateText(String(s)))' is not a finite number", hint: "pass --allow-nonfinite to evaluate it anyway")
            }
            return T(d)
        }
        var out = [InputValue<T>](repeating: .scalar(0), count: kind.inputs.count)
        if kind == .binary { out[2] = .scalar(1) }
        if kind == .multiclass { out[2] = .scalar(1) }
        for (input, cols) in columns {
            if kind.inputs[input].shape == .classVector { out[input] = .vector(try cols.map(num)) }
            else { out[input] = .scalar(try num(cols[0])) }
        }
        if let yc = yIndexColumn {
            let v = try num(yc)
            guard let k = Int(exactly: Double(v)), k >= 0, k < classes else {
                throw reader.error(column: yc + 1, "class index \(v) is not an integer in 0…\(classes - 1)")
            }
            var oneHot = [T](repeating: 0, count: classes)
            oneHot[k] = 1
            out[1] = .vector(oneHot)
        }
        return out
    }
}

func truncateText(_ s: String) -> String { s.count <= 30 ? s : String(s.prefix(30)) + "…" }
