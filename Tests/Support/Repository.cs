namespace SliceApi.Tests.Support;

/// <summary>The checkout the tests run from.</summary>
public static class Repository
{
    /// <summary>The folder holding SliceApi.sln, found above the test output folder.</summary>
    /// <exception cref="InvalidOperationException">No folder above holds SliceApi.sln.</exception>
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SliceApi.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("SliceApi.sln not found above the test output folder.");
    }
}
