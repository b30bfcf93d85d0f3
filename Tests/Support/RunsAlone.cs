namespace SliceApi.Tests.Support;

/// <summary>
/// The test classes that must not share the machine or the process with others: those that time a real process's
/// shutdown steps, and those that read the process-wide metrics (OpenTelemetry's meter listener sees the same-named
/// meters of every host in the process, and hosts of other classes come and go). xunit runs this collection after
/// the parallel ones, with nothing beside it.
/// </summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;
