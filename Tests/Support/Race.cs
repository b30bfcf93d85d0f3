namespace SliceApi.Tests.Support;

/// <summary>
/// Sends requests at the same moment: every request is prepared first, then all are released together through a barrier,
/// so they reach the pipeline (and PostgreSQL) concurrently rather than one after another.
/// </summary>
public static class Race
{
    /// <summary>Runs <paramref name="count"/> calls of <paramref name="send"/> (given 0 to count - 1) released at once.</summary>
    /// <returns>Their results, in the order of the index.</returns>
    public static async Task<T[]> AtOnceAsync<T>(int count, Func<int, Task<T>> send)
    {
        using var barrier = new Barrier(count);
        var calls = Enumerable.Range(0, count).Select(i => Task.Factory.StartNew(
            () =>
            {
                barrier.SignalAndWait(TimeSpan.FromSeconds(30));
                return send(i);
            },
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap());
        return await Task.WhenAll(calls);
    }
}
