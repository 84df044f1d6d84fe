package headwater.nexmark;

import java.util.Collections;
import java.util.Set;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.factories.DynamicTableSourceFactory;
import org.apache.flink.table.factories.FactoryUtil;

/**
 * A Flink SQL table source over one Arrow IPC stream file: {@code 'connector' = 'headwater-arrow-file'},
 * {@code 'path' = '/abs/file.arrows'}.
 *
 * <p>PyPI's apache-flink ships no Parquet format, so the benchmark gives Flink the same events as an
 * Arrow file and reads it the way Flink reads columnar data: whole batches into Arrow vectors, rows handed
 * on as {@code ColumnarRowData} views over them (Flink's own {@code ArrowReader}), no per-value parsing.
 * {@code 'timing-file'} names a file to which the source appends its processing window (see
 * {@link ArrowFileSourceFunction}).
 */
public final class ArrowFileSourceFactory implements DynamicTableSourceFactory {

    public static final ConfigOption<String> PATH =
            ConfigOptions.key("path").stringType().noDefaultValue().withDescription("the Arrow stream file");

    public static final ConfigOption<String> TIMING_FILE =
            ConfigOptions.key("timing-file")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("append 'rows wall_ns cpu_ns' of the processing window here");

    @Override
    public String factoryIdentifier() {
        return "headwater-arrow-file";
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Collections.singleton(PATH);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Collections.singleton(TIMING_FILE);
    }

    @Override
    public DynamicTableSource createDynamicTableSource(Context context) {
        FactoryUtil.TableFactoryHelper helper = FactoryUtil.createTableFactoryHelper(this, context);
        helper.validate();
        return new ArrowFileTableSource(
                context.getPhysicalRowDataType(),
                helper.getOptions().get(PATH),
                helper.getOptions().getOptional(TIMING_FILE).orElse(null));
    }
}
