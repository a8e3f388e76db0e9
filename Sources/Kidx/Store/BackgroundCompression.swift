import Foundation

/// One build's thread for compressing its stores' blocks, at the lowest priority (nice 19), in
/// the order they come. A block's text waits in its store's spool file, not in memory: the
/// thread runs mostly in the time the build's other threads leave idle, so its backlog may grow
/// for as long as documents come in. One thread and one zstd state serve every part of the
/// build (the parts share a dictionary): a part's store stays open until the commit finishes
/// the part, and with a state per part (15.7 MB by zstd's estimates) a build of four times FANG
/// peaked at 361 MiB instead of 274.
final class BackgroundCompression {
    /// The spool of one store, whose blocks the thread writes with `BlockWriter`.
    final class Store {
        fileprivate let blocks: BlockWriter
        /// The spool's descriptor, -1 once closed (and the file removed).
        fileprivate private(set) var spool: Int32
        fileprivate let spoolPath: String
        private var spooledBytes = 0
        private let owner: BackgroundCompression
        /// Guarded by the owner's condition: blocks spooled and not yet written, whether the
        /// rest are to be skipped, and what stopped them.
        fileprivate var queued = 0
        fileprivate var cancelled = false
        fileprivate var failure: Error?

        fileprivate init(blocks: BlockWriter, spool path: String, owner: BackgroundCompression) throws {
            self.blocks = blocks
            spoolPath = path
            self.owner = owner
            spool = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard spool >= 0 else { throw KidxError.io(path: path, reason: String(cString: strerror(errno))) }
        }

        deinit {
            removeSpool()
        }

        /// Closes and removes the spool: once the thread is done with it.
        private func removeSpool() {
            guard spool >= 0 else { return }
            close(spool)
            unlink(spoolPath)
            spool = -1
        }

        /// Spools a block (the first document numbered `firstDoc`) for the thread; throws what
        /// stopped this store's blocks, if anything did. Called by one thread at a time.
        func add(_ block: [UInt8], firstDoc: Int) throws {
            try block.withUnsafeBytes { try IndexFileWriter.write($0, to: spool, path: spoolPath) }
            try owner.enqueue(Item(store: self, firstDoc: firstDoc, offset: spooledBytes, length: block.count))
            spooledBytes += block.count
        }

        /// Waits until every block spooled is written, and removes the spool; throws what
        /// stopped them.
        func finish() throws {
            defer { removeSpool() }
            try owner.waitUntilWritten(self)
        }

        /// Skips the blocks not yet written, waits until the thread has left this store, and
        /// removes the spool.
        func cancel() {
            owner.cancel(self)
            removeSpool()
        }
    }

    fileprivate struct Item {
        var store: Store
        var firstDoc: Int
        var offset: Int
        var length: Int
    }

    /// Guards everything below.
    private let condition = NSCondition()
    /// Items to write from `head` on (taken from the front without moving the rest).
    private var queue: [Item] = []
    private var head = 0
    private var stopping = false
    private var stopped = false

    /// Starts the thread.
    init() {
        let thread = Thread { [self] in run() }
        thread.name = "kidx store compression"
        thread.start()
    }

    /// A store whose blocks this thread writes with `blocks`, spooled to a new file at `spool`.
    func store(writingTo blocks: BlockWriter, spool: String) throws -> Store {
        try Store(blocks: blocks, spool: spool, owner: self)
    }

    /// Stops the thread, skipping what it has not written, and waits for it. The thread holds
    /// this object until then.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        condition.unlock()
    }

    private func enqueue(_ item: Item) throws {
        condition.lock()
        defer { condition.unlock() }
        if let failure = item.store.failure { throw failure }
        guard !stopping else { throw Self.stoppedError(item.store) }
        queue.append(item)
        item.store.queued += 1
        condition.broadcast()
    }

    private func waitUntilWritten(_ store: Store) throws {
        condition.lock()
        defer { condition.unlock() }
        while store.queued > 0 { condition.wait() }
        if let failure = store.failure { throw failure }
    }

    private func cancel(_ store: Store) {
        condition.lock()
        store.cancelled = true
        while store.queued > 0 { condition.wait() }
        condition.unlock()
    }

    private static func stoppedError(_ store: Store) -> KidxError {
        KidxError.io(path: store.spoolPath, reason: "the build's store compression stopped")
    }

    private func run() {
        // On Linux the nice value belongs to the thread: this one yields to every other.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        let zstd = ZstdCompression()
        while let item = next() {
            var failure: Error?
            do {
                var bytes = [UInt8](repeating: 0, count: item.length)
                let count = bytes.withUnsafeMutableBytes { pread(item.store.spool, $0.baseAddress, item.length, off_t(item.offset)) }
                guard count == item.length else { throw KidxError.io(path: item.store.spoolPath, reason: "a spooled block is unreadable") }
                try item.store.blocks.write(bytes, firstDoc: item.firstDoc, compressingWith: zstd)
            } catch {
                failure = error
            }
            done(item, failure: failure)
        }
    }

    /// The next item to write, skipping those of cancelled or failed stores; nil once stopping
    /// (the rest skipped with an error).
    private func next() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            while head == queue.count && !stopping { condition.wait() }
            if stopping {
                for item in queue[head...] { done(item, failure: Self.stoppedError(item.store), locked: true) }
                queue.removeAll()
                stopped = true
                condition.broadcast()
                return nil
            }
            let item = queue[head]
            head += 1
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024, head * 2 >= queue.count {
                queue.removeFirst(head)
                head = 0
            }
            guard !item.store.cancelled, item.store.failure == nil else {
                done(item, failure: nil, locked: true)
                continue
            }
            return item
        }
    }

    private func done(_ item: Item, failure: Error?, locked: Bool = false) {
        if !locked { condition.lock() }
        if item.store.failure == nil, let failure { item.store.failure = failure }
        item.store.queued -= 1
        condition.broadcast()
        if !locked { condition.unlock() }
    }
}
