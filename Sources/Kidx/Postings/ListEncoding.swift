import Foundation

/// Encodes a sequence of posting lists on several threads and hands them on in their order, a
/// batch at a time: the lists of a batch are gathered and encoded on every thread, each thread
/// with its own `PostingsWriter`, then written one by one on the calling thread (files and the
/// term dictionary take them in key order).
///
/// Writing a segment's lists (merging a term's word lists, bit-packing them) took 13 of a FANG
/// build's 33 commit seconds on one thread. A batch is bounded by the documents it holds, so the
/// encoded lists waiting to be written stay a few megabytes.
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
    /// `documents` estimates an item's size, to cut batches (at `limit`) and share them out evenly.
    static func run(threads: Int, count: Int, documents: (Int) -> Int, limit: BatchLimit = BatchLimit(),
                    encode: (_ item: Int, _ worker: Int, inout PostingsWriter) throws -> PostingsWriter.EncodedList?,
                    write: (Int, PostingsWriter.EncodedList?, inout PostingsWriter) throws -> Void) throws {
        var writers = Array(repeating: PostingsWriter(), count: max(1, threads))
        var results: [PostingsWriter.EncodedList?] = []
        var sizes: [Int] = []
        var start = 0
        while start < count {
            sizes.removeAll(keepingCapacity: true)
            var total = 0, end = start
            while end < count, end == start || (total < limit.documents && end - start < limit.lists) {
                let size = max(1, documents(end))
                sizes.append(size)
                total += size
                end += 1
            }
            // Worker w takes the items from `bounds[w]`, whose documents so far reach its share.
            let workers = min(writers.count, sizes.count)
            var bounds = [0]
            var sum = 0
            for (offset, size) in sizes.enumerated() {
                sum += size
                while bounds.count < workers, sum * workers >= total * bounds.count { bounds.append(offset + 1) }
            }
            while bounds.count <= workers { bounds.append(sizes.count) }
            for worker in 0..<workers { writers[worker].removeEncoded() }
            results.removeAll(keepingCapacity: true)
            results.append(contentsOf: repeatElement(nil, count: sizes.count))
            try encodeBatch(from: start, bounds: bounds, writers: &writers, into: &results, encode: encode)
            for worker in 0..<workers {
                for offset in bounds[worker]..<bounds[worker + 1] { try write(start + offset, results[offset], &writers[worker]) }
            }
            start = end
        }
    }

    /// Encodes the batch's items on the threads: worker `w` items `bounds[w]..<bounds[w + 1]`
    /// of the batch starting at item `first`.
    private static func encodeBatch(from first: Int, bounds: [Int], writers: inout [PostingsWriter], into results: inout [PostingsWriter.EncodedList?],
                                    encode: (Int, Int, inout PostingsWriter) throws -> PostingsWriter.EncodedList?) throws {
        let workers = bounds.count - 1
        guard workers > 1 else {
            for offset in bounds[0]..<bounds[1] { results[offset] = try encode(first + offset, 0, &writers[0]) }
            return
        }
        var failures = [Error?](repeating: nil, count: workers)
        results.withUnsafeMutableBufferPointer { output in
            writers.withUnsafeMutableBufferPointer { writers in
                failures.withUnsafeMutableBufferPointer { failures in
                    let (output, writers, failures) = (output, writers, failures)
                    DispatchQueue.concurrentPerform(iterations: workers) { worker in
                        do {
                            for offset in bounds[worker]..<bounds[worker + 1] {
                                output[offset] = try encode(first + offset, worker, &writers[worker])
                            }
                        } catch {
                            failures[worker] = error
                        }
                    }
                }
            }
        }
        if let failure = failures.compactMap({ $0 }).first { throw failure }
    }
}
