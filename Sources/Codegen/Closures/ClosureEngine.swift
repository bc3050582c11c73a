import LossDSL

/// The buffers of one call, as raw pointers (the public API has validated the sizes).
struct CallBuffers<T: BlockReal> {
    /// Samples (binary elements, multiclass rows, box pairs).
    var count: Int
    /// Classes per sample (1 except for multiclass).
    var classes: Int
    /// binary/multiclass: x, y and w (nil: w = 1). box: x is the predicted boxes and y the
    /// target boxes, 4 coordinates per sample.
    var x: UnsafePointer<T>?
    var y: UnsafePointer<T>?
    var w: UnsafePointer<T>?
    var perElement: UnsafeMutablePointer<T>?
    var gradient: UnsafeMutablePointer<T>?
    /// The gradient is divided by this (the sample count, for a mean); nil: not scaled.
    var gradientDivisor: T?
}

/// A compiled program: its instruction closures and the loop that runs them block by block.
struct Engine<T: BlockReal>: Sendable {
    let program: BlockProgram
    /// Runs one call with a workspace; returns the sum of the per-sample losses.
    let run: @Sendable (CallBuffers<T>, Workspace<T>) -> Double

    /// Builds the closures for `T`. The builder is instantiated with the concrete type (Float
    /// or Double), so the compiler specializes every loop for it; a plain generic build would
    /// leave each element operation behind a protocol witness call.
    static func make(_ program: BlockProgram, mode: MathMode, blockElements: Int) -> Engine<T> {
        if T.self == Float.self, let e = EngineBuilder<Float>.make(program, mode, blockElements) as? Engine<T> { return e }
        if T.self == Double.self, let e = EngineBuilder<Double>.make(program, mode, blockElements) as? Engine<T> { return e }
        return EngineBuilder<T>.make(program, mode, blockElements)
    }
}

/// The block loop: bind the inputs of a block to registers, run the instruction closures,
/// then reduce the loss and store the per-sample loss and the gradient.
enum EngineBuilder<T: BlockReal> {
    static func make(_ program: BlockProgram, _ mode: MathMode, _ blockElements: Int) -> Engine<T> {
        let ops = ClosureBuilder<T>(program: program, mode: mode).build()
        let shapes = program.registerShapes, outputs = program.outputs, kind = program.kind, constants = program.constantRegisters
        let scratch = ClosureBuilder<T>.scratchCount
        let run: @Sendable (CallBuffers<T>, Workspace<T>) -> Double = { call, ws in
            guard call.count > 0 else { return 0 }
            let classes = max(call.classes, 1)
            let rows = max(1, min(blockElements / classes, call.count))
            let regs = ws.prepare(shapes: shapes, constants: constants, scratch: scratch, rows: rows, classes: classes)
            let ones = ws.ones
            var total = 0.0
            var start = 0
            while start < call.count {
                let m = min(rows, call.count - start)
                bind(kind, call, regs, ones, start, m)
                for op in ops { op(regs, m, classes) }
                total += gather(kind, outputs, shapes, call, regs, start, m)
                start += m
            }
            return total
        }
        return Engine(program: program, run: run)
    }

    /// Points the input registers at this block of the caller's arrays (box: de-interleaves
    /// the coordinates into the input registers' own blocks).
    @inline(__always)
    static func bind(_ kind: LossKind, _ call: CallBuffers<T>, _ regs: Registers<T>, _ ones: UnsafeMutablePointer<T>?,
                     _ start: Int, _ m: Int) {
        if kind == .box {
            guard let p = call.x, let t = call.y else { return }
            let ps = p + start * 4, ts = t + start * 4
            for j in 0..<4 {
                let dp = regs[3 + j], dt = regs[7 + j]
                for r in 0..<m { dp[r] = ps[r * 4 + j]; dt[r] = ts[r * 4 + j] }
            }
            return
        }
        let c = kind == .multiclass ? call.classes : 1
        if let x = call.x { regs[0] = UnsafeMutablePointer(mutating: x + start * c) }
        if let y = call.y { regs[1] = UnsafeMutablePointer(mutating: y + start * c) }
        if let w = call.w { regs[2] = UnsafeMutablePointer(mutating: w + start) } else if let ones { regs[2] = ones }
    }

    /// Sums the block's losses, stores the per-sample losses and gradients; returns the sum.
    @inline(__always)
    static func gather(_ kind: LossKind, _ outputs: [BlockProgram.Operand], _ shapes: [Shape], _ call: CallBuffers<T>,
                       _ regs: Registers<T>, _ start: Int, _ m: Int) -> Double {
        var sum = 0.0
        switch outputs[0] {
        case .register(let r):
            let v = regs[r]
            sum = blockSum(v, m)
            if let pe = call.perElement { (pe + start).update(from: v, count: m) }
        case .constant(let c):
            sum = Double(T(c)) * Double(m)
            if let pe = call.perElement { (pe + start).update(repeating: T(c), count: m) }
        }
        guard let g = call.gradient, outputs.count > 1 else { return sum }
        let d = call.gradientDivisor
        switch kind {
        case .multiclass:
            let c = call.classes, out = g + start * c
            switch outputs[1] {
            case .register(let r) where shapes[r] == .classVector:
                store(regs[r], stride: 1, to: out, stride: 1, m * c, d)
            case .register(let r):
                let v = regs[r]
                for i in 0..<m { (out + i * c).update(repeating: scaled(v[i], d), count: c) }
            case .constant(let k):
                out.update(repeating: scaled(T(k), d), count: m * c)
            }
        default:
            // binary: one gradient, stride 1; box: four, interleaved per sample.
            let width = outputs.count - 1
            for j in 0..<width {
                let out = g + start * width + j
                switch outputs[1 + j] {
                case .register(let r): store(regs[r], stride: 1, to: out, stride: width, m, d)
                case .constant(let k):
                    let v = scaled(T(k), d)
                    for i in 0..<m { out[i * width] = v }
                }
            }
        }
        return sum
    }

    @inline(__always)
    static func scaled(_ v: T, _ d: T?) -> T { d.map { v / $0 } ?? v }

    @inline(__always)
    static func store(_ src: UnsafePointer<T>, stride s: Int, to dst: UnsafeMutablePointer<T>, stride t: Int, _ n: Int, _ d: T?) {
        if let d {
            for i in 0..<n { dst[i * t] = src[i * s] / d }
        } else if s == 1 && t == 1 {
            dst.update(from: src, count: n)
        } else {
            for i in 0..<n { dst[i * t] = src[i * s] }
        }
    }

    /// The block's sum in Double with four accumulators (a long float sum loses digits, and
    /// one accumulator would make the add latency, not the math, the bottleneck).
    @inline(__always)
    static func blockSum(_ p: UnsafePointer<T>, _ n: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= n {
            s0 += Double(p[i]); s1 += Double(p[i + 1]); s2 += Double(p[i + 2]); s3 += Double(p[i + 3])
            i += 4
        }
        while i < n { s0 += Double(p[i]); i += 1 }
        return (s0 + s1) + (s2 + s3)
    }
}
