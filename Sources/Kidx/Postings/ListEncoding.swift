import Foundation
import Synchronization

/// Encodes a sequence of posting lists on several threads and hands them on in their order, a
/// batch at a time: the lists of a batch are encoded on every thread, each thread with its own
/// `PostingsWriter`, then written one by one on the calling thread (files and the term
/// dictionary take them in key order).
///
/// Writing a segment's lists (merging a term's word lists, bit-packing them) took 13 of a FANG
/// build's 33 commit seconds on one thread. A batch is bounded by the documents it holds, so the
/// encoded lists waiting to be written stay a few megabytes.
///
/// With more than one thread the batches are pipelined: while the threads encode one batch,
/// the calling thread gathers the ones after it and writes the one before (three sets of
/// writers take turns). Done one after the other, the calling thread's part left a core idle:
/// in a FANG build on two threads, the merge of the parts spent 1.0 of its 2.5 seconds
/// gathering keys and 0.3 writing, and each part's exact words half their time writing.
enum ListEncoding {
    /// Where a batch ends: once its lists hold this many documents, or there are this many lists.
    struct BatchLimit {
        var documents = 1 << 20, lists = 8192
    }

    /// For each of `count` items in order: `encode` makes its list with a thread's own writer
    /// (nil: the item has none, such as an exact word sharing its stem's list), on any of
    /// `threads` threads, told which (0 up to `threads`, for state of its own); `write` then
    /// takes the item, its list and the writer that holds the list's bytes
    /// (`PostingsWriter.append`; lent `inout` so that it is not copied) on the calling thread.
    /// `documents` estimates an item's size, to cut batches (at `limit`).
    ///
    /// `encode` runs while `write` writes earlier items: it must not read what `write` changes.
    static func run(threads: Int, count: Int, documents: (Int) -> Int, limit: BatchLimit = BatchLimit(),
                    encode: (_ item: Int, _ worker: Int, inout PostingsWriter) throws -> PostingsWriter.EncodedList?,
                    write: (Int, PostingsWriter.EncodedList?, inout PostingsWriter) throws -> Void) throws {
        // Each slot's first item (read by the encoding threads while the caller cuts the next batch
        // into another slot: a buffer, not an array variable both would access).
        let firstItems = UnsafeMutableBufferPointer<Int>.allocate(capacity: slots)
        firstItems.initialize(repeating: 0)
        defer { firstItems.deallocate() }
        var next = 0
        try run(threads: threads,
                nextBatch: { slot in
                    firstItems[slot] = next
                    var total = 0
                    while next < count, next == firstItems[slot] || (total < limit.documents && next - firstItems[slot] < limit.lists) {
                        total += max(1, documents(next))
                        next += 1
                    }
                    return next - firstItems[slot]
                },
                encode: { slot, item, worker, writer in try encode(firstItems[slot] + item, worker, &writer) },
                write: { slot, item, list, writer in try write(firstItems[slot] + item, list, &writer) })
    }

    /// How many batches are in the pipeline at once: one written, the next encoded, one more
    /// gathered and waiting. With two, the threads that finished encoding a batch waited for
    /// the calling thread to finish writing the one before it.
    static let slots = 3

    /// The batches themselves from `nextBatch`: told a slot (0 up to `slots`), it gathers its
    /// next batch there and returns how many items it has (0: no batch is left). `encode` and
    /// `write` then take the slot and the item's number in its batch.
    /// A slot is gathered again only once its batch is written: `nextBatch` runs while other
    /// slots' batches are encoded, and `write` while the next ones are. Batches are encoded
    /// one at a time, in order.
    static func run(threads: Int, nextBatch: (_ slot: Int) throws -> Int,
                    encode: (_ slot: Int, _ item: Int, _ worker: Int, inout PostingsWriter) throws -> PostingsWriter.EncodedList?,
                    write: (_ slot: Int, _ item: Int, PostingsWriter.EncodedList?, inout PostingsWriter) throws -> Void) throws {
        let batches = (0..<slots).map { _ in Batch(workers: max(1, threads)) }
        guard threads > 1 else {
            var slot = 0
            while try batches[slot].gather(slot: slot, nextBatch) {
                let batch = batches[slot]
                batch.encode(slot: slot, encode)
                if let failure = batch.failure { throw failure }
                for item in 0..<batch.count { try write(slot, item, batch.results[item], &batch.writers[batch.owners[item]]) }
                slot = (slot + 1) % slots
            }
            return
        }
        try withoutActuallyEscaping(encode) { encode in
            // One block encodes the gathered batches in order while this thread gathers ahead
            // and writes. It is waited for before returning, whatever is thrown, and reaches
            // `encode` through a box emptied then: a block is released only after it signals
            // its end, so it must not hold `encode`.
            let box = EncoderBox(encode)
            let pipeline = Pipeline()
            let encoder = DispatchGroup()
            encoder.enter()
            DispatchQueue.global().async {
                var slot = 0
                while true {
                    pipeline.gathered.wait()
                    if pipeline.stopping.load(ordering: .acquiring) { break }
                    batches[slot].encode(slot: slot, box.encode!)
                    pipeline.encoded[slot].signal()
                    slot = (slot + 1) % slots
                }
                encoder.leave()
            }
            defer {
                pipeline.stopping.store(true, ordering: .releasing)
                pipeline.gathered.signal()
                encoder.wait()
                box.encode = nil
            }
            var gathered = 0, written = 0, exhausted = false
            while true {
                // Every free slot gathered: those of the batches written.
                while !exhausted, gathered < written + slots {
                    if try batches[gathered % slots].gather(slot: gathered % slots, nextBatch) {
                        gathered += 1
                        pipeline.gathered.signal()
                    } else {
                        exhausted = true
                    }
                }
                guard written < gathered else { return }
                let slot = written % slots
                pipeline.encoded[slot].wait()
                let done = batches[slot]
                if let failure = done.failure { throw failure }
                for item in 0..<done.count { try write(slot, item, done.results[item], &done.writers[done.owners[item]]) }
                written += 1
            }
        }
    }

    /// What the calling thread and the encoding block signal each other: a batch gathered
    /// (once per batch), a slot's batch encoded, and that no more batches come.
    private final class Pipeline: Sendable {
        let gathered = DispatchSemaphore(value: 0)
        let encoded = (0..<slots).map { _ in DispatchSemaphore(value: 0) }
        let stopping = Atomic<Bool>(false)
    }

    /// Holds the encoding closure for the blocks that run it.
    private final class EncoderBox {
        var encode: ((Int, Int, Int, inout PostingsWriter) throws -> PostingsWriter.EncodedList?)?

        init(_ encode: @escaping (Int, Int, Int, inout PostingsWriter) throws -> PostingsWriter.EncodedList?) { self.encode = encode }
    }

    /// One slot of the pipeline: a batch's lists and the writers that hold their bytes.
    private final class Batch {
        var writers: [PostingsWriter]
        var count = 0
        var results: [PostingsWriter.EncodedList?] = []
        /// Which writer encoded each item.
        var owners: [Int] = []
        var failure: Error?

        init(workers: Int) { writers = Array(repeating: PostingsWriter(), count: workers) }

        /// Gathers the slot's next batch; false when there is none.
        func gather(slot: Int, _ nextBatch: (Int) throws -> Int) throws -> Bool {
            count = try nextBatch(slot)
            guard count > 0 else { return false }
            for index in writers.indices { writers[index].removeEncoded() }
            results.removeAll(keepingCapacity: true)
            results.append(contentsOf: repeatElement(nil, count: count))
            owners.removeAll(keepingCapacity: true)
            owners.append(contentsOf: repeatElement(0, count: count))
            failure = nil
            return true
        }

        /// Encodes the batch on its workers, each taking the next item not yet taken (the first
        /// error is kept in `failure`). Shared out beforehand by their documents, the batches'
        /// lists kept one worker busy longer than the other: in a FANG build, the slower
        /// worker's time summed over the merge's batches was 2.35 s, the average 2.07 s.
        func encode(slot: Int, _ encode: (Int, Int, Int, inout PostingsWriter) throws -> PostingsWriter.EncodedList?) {
            let workers = min(writers.count, count), count = count
            var failures = [Error?](repeating: nil, count: workers)
            let next = Atomic<Int>(0)
            results.withUnsafeMutableBufferPointer { output in
                owners.withUnsafeMutableBufferPointer { owners in
                    writers.withUnsafeMutableBufferPointer { writers in
                        failures.withUnsafeMutableBufferPointer { failures in
                            let (output, owners, writers, failures) = (output, owners, writers, failures)
                            func run(_ worker: Int) {
                                do {
                                    while true {
                                        let item = next.wrappingAdd(1, ordering: .relaxed).oldValue
                                        guard item < count else { return }
                                        owners[item] = worker
                                        output[item] = try encode(slot, item, worker, &writers[worker])
                                    }
                                } catch {
                                    failures[worker] = error
                                }
                            }
                            if workers == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: run) }
                        }
                    }
                }
            }
            failure = failures.compactMap { $0 }.first
        }
    }
}
