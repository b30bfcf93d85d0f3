using Microsoft.EntityFrameworkCore;

namespace SliceApi.Infrastructure.Data;

/// <summary>
/// The data session. It declares no per-feature <c>DbSet</c>: each feature folder owns its entities
/// and their <see cref="IEntityTypeConfiguration{TEntity}"/>, and slices use <c>db.Set&lt;T&gt;()</c>.
/// The schema itself comes from the SQL migrations under <c>Infrastructure/Data/Migrations</c>.
/// </summary>
internal sealed class AppDbContext(DbContextOptions<AppDbContext> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(AppDbContext).Assembly);
}
