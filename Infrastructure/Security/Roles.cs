namespace SliceApi.Infrastructure.Security;

/// <summary>The roles a user can hold, as stored in <c>users.role</c> and in the access token's <c>role</c> claim.</summary>
internal static class AppRoles
{
    /// <summary>Reads and changes every task and user.</summary>
    public const string Admin = "admin";

    /// <summary>Reads and changes their own tasks. Registration gives this role.</summary>
    public const string User = "user";

    /// <summary>Reads their own tasks; every write is 403.</summary>
    public const string Guest = "guest";

    /// <summary>Every role, for validation and database check constraints.</summary>
    public static readonly IReadOnlyList<string> All = [Admin, User, Guest];
}
