package headwater.nexmark;

import org.apache.flink.legacy.table.connector.source.SourceFunctionProvider;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.connector.source.ScanTableSource;
import org.apache.flink.table.types.DataType;

/** A bounded, insert-only scan of one Arrow stream file (see {@link ArrowFileSourceFactory}). */
final class ArrowFileTableSource implements ScanTableSource {

    private final DataType rowType;
    private final String path;
    private final String timingPath;

    ArrowFileTableSource(DataType rowType, String path, String timingPath) {
        this.rowType = rowType;
        this.path = path;
        this.timingPath = timingPath;
    }

    @Override
    public ChangelogMode getChangelogMode() {
        return ChangelogMode.insertOnly();
    }

    @Override
    public ScanRuntimeProvider getScanRuntimeProvider(ScanContext context) {
        return SourceFunctionProvider.of(new ArrowFileSourceFunction(rowType, path, timingPath), true);
    }

    @Override
    public DynamicTableSource copy() {
        return new ArrowFileTableSource(rowType, path, timingPath);
    }

    @Override
    public String asSummaryString() {
        return "ArrowFile(" + path + ")";
    }
}
