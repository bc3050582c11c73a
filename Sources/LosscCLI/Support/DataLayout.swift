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
            guard let d = CLINumber.cell(s[...]) else { throw reader.error(column: c + 1, "'\(truncateText(String(s)))' is not a number") }
            if !d.isFinite, !allowNonFinite {
                throw reader.error(column: c + 1, "'\(truncateText(String(s)))' is not a finite number", hint: "pass --allow-nonfinite to evaluate it anyway")
            }
            // Finite in Double but not in the precision asked for (1e39 in float32): refused like inf.
            if d.isFinite, !T(d).isFinite, !allowNonFinite {
                throw reader.error(column: c + 1, "'\(truncateText(String(s)))' overflows \(T.self == Float.self ? "float32" : "the precision")",
                                   hint: "float32 holds magnitudes up to 3.4e38; use --precision f64, or --allow-nonfinite")
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
        try checkDomain(out, reader: reader)
        return out
    }

    /// Values outside the documented input domain are errors (not silently evaluated): labels
    /// y and qualities w in [0, 1] (soft labels allowed), boxes with x1 <= x2 and y1 <= y2.
    /// Non-finite values are left to --allow-nonfinite.
    func checkDomain<T: LossReal>(_ out: [InputValue<T>], reader: CSVReader) throws {
        func column(_ name: String) -> Int { (columns[kind.inputs.firstIndex { $0.name == name } ?? -1]?.first ?? 0) + 1 }
        switch kind {
        case .binary, .multiclass:
            for (i, name) in [(1, "y"), (2, "w")] {
                let values: [T]
                switch out[i] { case .scalar(let v): values = [v]; case .vector(let v): values = v }
                if let bad = values.first(where: { $0.isFinite && !(0...1).contains($0) }) {
                    let col = kind == .multiclass && name == "y" ? (yIndexColumn.map { $0 + 1 } ?? (columns[1]?.first ?? 0) + 1) : column(name)
                    throw reader.error(column: col, "\(name) = \(bad) is outside [0, 1]",
                                       hint: name == "y" ? "labels are 0 or 1 (soft labels in between)" : "w is an IoU or quality in [0, 1]")
                }
            }
        case .box:
            for (lo, hi) in [("x1", "x2"), ("y1", "y2"), ("tx1", "tx2"), ("ty1", "ty2")] {
                guard let a = kind.inputs.firstIndex(where: { $0.name == lo }), let b = kind.inputs.firstIndex(where: { $0.name == hi }),
                      case .scalar(let l) = out[a], case .scalar(let h) = out[b], l.isFinite, h.isFinite, h < l else { continue }
                throw reader.error(column: column(hi), "inverted box: \(hi) = \(h) is less than \(lo) = \(l)", hint: "boxes are x1,y1,x2,y2 with x1 <= x2 and y1 <= y2")
            }
        default: break
        }
    }
}

func truncateText(_ s: String) -> String { s.count <= 30 ? s : String(s.prefix(30)) + "…" }
