import LossDSL
import Synchronization

/// Scratch memory for one call of a `LossKernel`: one block per register, plus the table of
/// register pointers the closures read.
///
/// A workspace grows to the largest layout it has served and is then reused, so calls in a
/// steady state allocate nothing. It is used by one call at a time: pass your own to the
/// `evaluate` overloads that take one (one per thread), or let the kernel take one from its
/// internal pool.
public final class Workspace<T: BlockReal>: @unchecked Sendable {
    // @unchecked: the memory is only touched by the one call that holds the workspace
    // (the pool hands each workspace to one caller at a time).
    private var storage: UnsafeMutablePointer<T>?
    private var capacity = 0
    private var table: UnsafeMutablePointer<UnsafeMutablePointer<T>>?
    private var tableCapacity = 0
    /// A block of ones, for an omitted `w`.
    private(set) var ones: UnsafeMutablePointer<T>?

    /// An empty workspace; it allocates on first use.
    public init() {}

    deinit {
        storage?.deallocate()
        table?.deallocate()
    }

    /// Lays out the registers of `shapes` plus `scratch` class-vector-sized scratch registers
    /// and a block of ones, for blocks of `rows` samples of `classes` classes, growing the
    /// memory if needed, and fills the constant registers. Returns the register table.
    func prepare(shapes: [Shape], constants: [BlockProgram.ConstantRegister], scratch: Int, rows: Int, classes: Int) -> Registers<T> {
        // Each register starts on a 64-byte boundary (16 floats) so vector loads line up.
        func rounded(_ n: Int) -> Int { (n + 15) & ~15 }
        let scalarSize = rounded(rows), vectorSize = rounded(rows * classes)
        var need = scalarSize + scratch * vectorSize
        for s in shapes { need += s == .classVector ? vectorSize : scalarSize }
        if need > capacity {
            storage?.deallocate()
            storage = .allocate(capacity: need)
            capacity = need
        }
        let registers = shapes.count + scratch
        if registers > tableCapacity {
            table?.deallocate()
            table = .allocate(capacity: registers)
            tableCapacity = registers
        }
        guard let base = storage, let table else { preconditionFailure("allocation failed") }
        var p = base
        for (i, s) in shapes.enumerated() {
            table[i] = p
            p += s == .classVector ? vectorSize : scalarSize
        }
        for i in 0..<scratch {
            table[shapes.count + i] = p
            p += vectorSize
        }
        p.update(repeating: 1, count: rows)
        ones = p
        for c in constants {
            table[c.register].update(repeating: T(c.value), count: shapes[c.register] == .classVector ? rows * classes : rows)
        }
        return table
    }
}

/// A lock-protected free list of workspaces, so a kernel can be called from several threads
/// at once without the caller managing memory.
final class WorkspacePool<T: BlockReal>: Sendable {
    private let free = Mutex<[Workspace<T>]>([])

    /// A workspace for one call: a pooled one, or a new one when all are in use.
    func take() -> Workspace<T> {
        free.withLock { $0.popLast() } ?? Workspace<T>()
    }

    /// Returns a workspace after its call (the pool keeps at most 64).
    func give(_ w: Workspace<T>) {
        free.withLock { if $0.count < 64 { $0.append(w) } }
    }
}
