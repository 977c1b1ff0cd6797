import SlipwayStore

extension EventLog {
    /// The id of the newest event, of `app` or of the whole log; 0 for none.
    func newestID(app: String? = nil) throws(StoreError) -> Int64 {
        if let app { return try latestEvents(app: app, limit: 1).last?.id ?? 0 }
        var newest: Int64 = 0
        // Controller-wide events have an empty app name, which `apps()` leaves out.
        for name in try apps() + [""] {
            newest = max(newest, try latestEvents(app: name, limit: 1).last?.id ?? 0)
        }
        return newest
    }
}
